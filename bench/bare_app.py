"""The ceiling for the API benchmark: a bare FastAPI endpoint returning a constant."""

from __future__ import annotations

from fastapi import FastAPI

app = FastAPI()


@app.get("/const")
def const() -> dict[str, object]:
    return {"data": {"ok": True}, "errors": []}
