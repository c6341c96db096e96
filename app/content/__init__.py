"""Reading article files: both layouts, front matter, the publisher's schema, one error type naming file and field.

The flow is ``discover(paths)`` → ``InputArticle`` (raw bytes and a fingerprint, cheap) →
``parse(article)`` → ``ParsedArticle`` (validated, with everything derived at ingest).
"""
