"""/claims: every claim, filterable; one claim by its global id."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response

from app.http import ContextDep
from app.queries import claims
from app.queries.params import ClaimParams, NoParams
from app.responses import ClaimDetail, ClaimList

router = APIRouter(tags=["claims"])


@router.get("/claims", response_model=ClaimList, summary="List claims in feed order, filtered and paged")
def get_claims(ctx: ContextDep, params: Annotated[ClaimParams, Query()]) -> Response:
    return ctx.page(claims.list_claims(ctx.scope, params), "/claims")


@router.get("/claims/{claim_id}", response_model=ClaimDetail,
            summary="One claim with evidence, sources, counterevidence, verification and diagnostics")  # fmt: skip
def get_claim(
    ctx: ContextDep,
    claim_id: Annotated[str, Path(description="The global claim id: article:<slug>:claim-NNN.", max_length=300)],
    _: Annotated[NoParams, Query()],
) -> Response:
    return ctx.json(claims.get_claim(ctx.scope, claim_id))
