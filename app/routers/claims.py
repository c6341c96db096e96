"""/claims: every claim, filterable; one claim by its global id, today or at a corpus version; its history."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response

from app.http import ContextDep
from app.queries import claims, history
from app.queries.params import ClaimParams, ClaimVersionParams, HistoryParams
from app.responses import ClaimDetail, ClaimList
from app.responses_history import ClaimHistory, ClaimVersion

router = APIRouter(tags=["claims"])
ClaimId = Annotated[str, Path(description="The global claim id: article:<slug>:claim-NNN.", max_length=300)]
#: A claim at a version never changes (app.queries.history), so public caches may keep it: a year, as RFC 9111
#: suggests for "never expires", and ``immutable`` so that browsers do not revalidate it on reload. Preview
#: answers keep ``private, no-store`` (app.http); problems (404, 410, 422) are never cached this way. The 304 of
#: ``revalidate``, answered before the route, keeps the ordinary max-age: a client that revalidates gets the short
#: one, which costs it only another revalidation. What may still move is not the claim: ``articleUrl`` and
#: ``citationUrl`` are today's (a new GARDEN_SITE_URL or canonical path reaches a cached copy within the year), and
#: a version the log later trims turns into a 410 while a cached copy still says, truly, what the claim was.
IMMUTABLE = "public, max-age=31536000, immutable"


@router.get("/claims", response_model=ClaimList, summary="List claims in feed order, filtered and paged")
def get_claims(ctx: ContextDep, params: Annotated[ClaimParams, Query()]) -> Response:
    return ctx.page(claims.list_claims(ctx.scope, params), "/claims")


@router.get("/claims/{claim_id}", response_model=ClaimDetail | ClaimVersion,
            summary="One claim with evidence, sources, counterevidence, verification and diagnostics; "
                    "with version=N, the claim as it was at corpus version N (ClaimVersion)")  # fmt: skip
def get_claim(ctx: ContextDep, claim_id: ClaimId, params: Annotated[ClaimVersionParams, Query()]) -> Response:
    if params.version is None:
        return ctx.json(claims.get_claim(ctx.scope, claim_id))
    response = ctx.json(history.claim_at_version(ctx.scope, claim_id, params.version))
    if response.status_code == 200 and not ctx.preview:
        response.headers["Cache-Control"] = IMMUTABLE
    return response


@router.get("/claims/{claim_id}/history", response_model=ClaimHistory,
            summary="A claim's versions, oldest first, with the corpus version and date of each")  # fmt: skip
def get_claim_history(ctx: ContextDep, claim_id: ClaimId, params: Annotated[HistoryParams, Query()]) -> Response:
    return ctx.page(history.claim_history(ctx.scope, claim_id, params), f"/claims/{claim_id}/history")
