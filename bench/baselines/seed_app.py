"""The seed's design, faithfully small: FastAPI on one Uvicorn worker, asyncio.Semaphore(64) with a
60 s timeout, run_in_executor on a 32-thread pool, PyJWT ES256. Run: uvicorn bench.baselines.seed_app:app"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import jwt
from fastapi import FastAPI, Header, HTTPException
from fastapi.responses import Response
from pydantic import BaseModel

from bench.baselines.common import PRIVATE_KEY, check_basic, claims, jwks_document

THREADS = 32
SLOTS = THREADS * 2
SLOT_TIMEOUT = 60

app = FastAPI()
pool = ThreadPoolExecutor(max_workers=THREADS)
semaphore: asyncio.Semaphore | None = None


class MintBody(BaseModel):
    audience: str | list[str]
    scope: str | None = None
    ttl: int | None = None


def sign(payload: dict[str, Any]) -> str:
    return jwt.encode(payload, PRIVATE_KEY, algorithm="ES256", headers={"kid": "bench", "typ": "at+jwt"})


@app.post("/v1/tokens")
async def mint(body: MintBody, authorization: str | None = Header(default=None)) -> dict[str, Any]:
    global semaphore
    if not check_basic(authorization):
        raise HTTPException(status_code=401, detail="invalid_client")
    if semaphore is None:
        semaphore = asyncio.Semaphore(SLOTS)
    payload = claims(body.audience, body.ttl or 300)
    await asyncio.wait_for(semaphore.acquire(), timeout=SLOT_TIMEOUT)
    try:
        token = await asyncio.get_running_loop().run_in_executor(pool, sign, payload)
    finally:
        semaphore.release()
    return {"access_token": token, "token_type": "Bearer", "expires_in": body.ttl or 300}


@app.get("/.well-known/jwks.json")
async def jwks() -> Response:
    return Response(content=jwks_document(), media_type="application/json")


@app.get("/readyz")
async def ready() -> dict[str, str]:
    return {"status": "ready"}
