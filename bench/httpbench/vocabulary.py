"""Search questions for the cold workloads, made from the corpus's own words at prepare time.

The words come from the claim texts and article titles and summaries of the first pages of ``/claims`` and
``/articles`` (a few thousand claims). The synthetic corpus repeats the real one batch after batch, so those
pages already hold every distinct text, and a word's rank among them is its rank in the whole corpus.

* the commonest words: the most frequent words of four letters or more, English stopwords left out;
* rare words: words seen once in the sample (in the real corpus: once), in a seeded random order;
* 5-word questions: "how does <w1> affect <w2>"-style templates over the 300 commonest words, never the same
  question twice in a run.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Iterable

#: English stopwords (those of four letters or more matter: shorter words are never taken).
_STOPWORDS = """
    about above after again against also although among an and any are around because been before being
    below between both but by can cannot could did does doing down during each either every few for from
    further had has have having here hers herself himself however into its itself just least less like made
    make makes many might more most much must near neither nor not now off once only onto other others ought
    our ours ourselves out over own rather same several shall she should since some such than that the their
    theirs them themselves then there these they this those though through thus too toward under until upon
    very was were what whatever when where whether which while who whom whose why will with within without
    would yet you your yours yourself yourselves also still even ever often across along already another
    instead whereas usually something anything nothing everything someone anyone each other first second
"""
STOPWORDS = frozenset(_STOPWORDS.split())
_WORD = re.compile(r"[a-z][a-z'-]*[a-z]")
#: 5-word questions: two corpus words in a question a reader might type.
TEMPLATES = (
    "how does {a} affect {b}",
    "why does {a} change {b}",
    "what makes {a} {b} work",
    "is {a} better than {b}",
    "when does {a} beat {b}",
    "can {a} replace {b} today",
)


def word_counts(texts: Iterable[str]) -> Counter[str]:
    """Words of four letters or more, lower-cased, stopwords left out, with how often each occurs."""
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(
            word for word in _WORD.findall(text.lower()) if len(word) >= 4 and word not in STOPWORDS and "'" not in word
        )
    return counts


def commonest(counts: Counter[str], count: int) -> list[str]:
    """The ``count`` most frequent words, most frequent first (ties by the word)."""
    return [word for word, _n in sorted(counts.items(), key=lambda pair: (-pair[1], pair[0]))[:count]]


def rare(counts: Counter[str], count: int, rng: random.Random) -> list[str]:
    """``count`` words seen only once (then twice, …), in a seeded random order."""
    found: list[str] = []
    for times in sorted(set(counts.values())):
        group = sorted(word for word, n in counts.items() if n == times and not any(c.isdigit() for c in word))
        rng.shuffle(group)
        found += group
        if len(found) >= count:
            break
    return found[:count]


def questions(counts: Counter[str], count: int, rng: random.Random, pool: int = 300) -> list[str]:
    """``count`` distinct 5-word questions from the ``pool`` commonest words."""
    words = commonest(counts, pool)
    if len(words) < 2:
        return []
    made: list[str] = []
    seen: set[str] = set()
    attempts = 0
    while len(made) < count and attempts < count * 50:
        attempts += 1
        first, second = rng.sample(words, 2)
        question = rng.choice(TEMPLATES).format(a=first, b=second)
        if question not in seen:
            seen.add(question)
            made.append(question)
    return made
