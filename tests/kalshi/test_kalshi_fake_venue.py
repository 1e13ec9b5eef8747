"""The fake venue speaks Kalshi's quirks (others reuse it, so its fidelity is tested)."""

from __future__ import annotations

import json
from typing import Any

import pytest
import trio
from cryptography.hazmat.primitives.asymmetric import rsa
from trio_websocket import ConnectionRejected, WebSocketConnection, open_websocket_url

from arbees.kalshi.auth import KalshiSigner
from arbees.testing.fake_kalshi import WS_PATH, FakeKalshi
from arbees.testing.kalshi_keys import TEST_KEY_ID


async def recv(ws: WebSocketConnection, n: int) -> list[dict[str, Any]]:
    with trio.fail_after(5):
        return [json.loads(await ws.get_message()) for _ in range(n)]


async def send(ws: WebSocketConnection, cid: int, cmd: str, **params: Any) -> None:
    await ws.send_message(json.dumps({"id": cid, "cmd": cmd, "params": params}))


async def test_fake_venue_quirks(test_key: rsa.RSAPrivateKey, signer: KalshiSigner) -> None:
    fake = FakeKalshi(public_key=test_key.public_key(), key_id=TEST_KEY_ID, heartbeat_interval=0.05)
    fake.set_book("A", yes=[("0.41", 10), ("0.30", "1.5")], no=[("0.55", 3)])
    fake.set_book("B", yes=[("0.20", 1)])
    async with trio.open_nursery() as nursery:
        urls = await nursery.start(fake.run)
        with pytest.raises(ConnectionRejected) as info:
            async with open_websocket_url(urls.ws_url):
                pass  # pragma: no cover
        assert info.value.status_code == 401
        headers = [(k.encode(), v.encode()) for k, v in signer.headers("GET", WS_PATH).items()]
        async with open_websocket_url(urls.ws_url, extra_headers=headers) as ws:
            await send(
                ws,
                1,
                "subscribe",
                channels=["orderbook_delta", "ticker"],
                market_tickers=["A", "B", "UNKNOWN"],
                use_yes_price=False,
            )
            sub, s1, s2, s3, sub_t, t1, t2 = await recv(ws, 7)
            assert sub == {
                "id": 1,
                "type": "subscribed",
                "msg": {"channel": "orderbook_delta", "sid": 1},
            }
            assert [s["seq"] for s in (s1, s2, s3)] == [1, 2, 3]
            assert s1["msg"]["yes_dollars_fp"] == [
                ["0.3000", "1.50"],
                ["0.4100", "10.00"],
            ]  # best last
            assert s3["msg"] == {"market_ticker": "UNKNOWN", "market_id": ""}  # no side keys
            assert "no_dollars_fp" not in s2["msg"]
            assert sub_t["msg"]["channel"] == "ticker"
            assert "seq" not in sub_t
            assert "seq" not in t1
            assert t1["msg"]["yes_ask_dollars"] == "0.4500"
            assert "yes_ask_dollars" not in t2["msg"]  # omitted when NO side is empty

            fake.apply_delta("A", "no", "0.55", "-1")
            delta, tick = await recv(ws, 2)
            assert (delta["type"], delta["sid"], delta["seq"]) == ("orderbook_delta", 1, 4)
            assert delta["msg"]["delta_fp"] == "-1.00"
            assert tick["type"] == "ticker"

            await send(ws, 2, "subscribe", channels=["orderbook_delta"], market_tickers=["A"])
            [ok] = await recv(ws, 1)  # repeated subscribe: ok consuming seq, NO snapshot
            assert (ok["type"], ok["sid"], ok["seq"]) == ("ok", 1, 5)

            await send(
                ws, 3, "update_subscription", sids=[1], market_tickers=["A"], action="get_snapshot"
            )
            ok, snap = await recv(ws, 2)
            assert (ok["seq"], snap["seq"], snap["type"]) == (6, 7, "orderbook_snapshot")

            fake.drop_next_deltas(1)
            fake.apply_delta("B", "yes", "0.20", 1)  # seq 8 burnt
            fake.apply_delta("B", "yes", "0.20", 1)
            t_b, d, t_b2 = await recv(ws, 3)  # the ticker channel still reports the lost delta
            assert (t_b["type"], d["seq"], t_b2["type"]) == ("ticker", 9, "ticker")

            await send(ws, 4, "unsubscribe", sids=[1])
            [un] = await recv(ws, 1)
            assert un == {"id": 4, "sid": 1, "seq": 10, "type": "unsubscribed"}
            await send(ws, 5, "subscribe", channels=["orderbook_delta"], market_tickers=["A"])
            sub, snap = await recv(ws, 2)
            assert sub["msg"]["sid"] == 3
            assert (snap["sid"], snap["seq"]) == (3, 1)

            await send(ws, 6, "subscribe", channels=["orderbook_delta"])
            [err] = await recv(ws, 1)
            assert err["msg"]["code"] == 14
            fake.send_error(25)
            [err] = await recv(ws, 1)
            assert err["msg"]["code"] == 25
            assert all(ch != "orderbook_delta" for ch, _ in fake.sids().values())
            with trio.fail_after(5):
                while fake.pongs == 0:  # noqa: ASYNC110 - the client pongs automatically
                    await trio.sleep(0.02)
        nursery.cancel_scope.cancel()
