"""Short stock reports read as they arrive: the JSON array parsed element by element (any chunk
boundary), rows handed over in batches before the answer has ended, the same errors."""

import gzip
import json
import threading
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import responses
from moysklad_client_helpers import BASE, PRODUCT_ID, STORE_ID, FakeTime, make_client

from api.errors import BadResponse, ServiceUnavailable
from api.json_stream import MalformedJson, iter_json_array

STOCK_URL = f"{BASE}/report/stock/bystore/current"


def pieces(data, size):
    return [data[i:i + size] for i in range(0, len(data), size)]


# -- the array parser ---------------------------------------------------------------------------
@pytest.mark.parametrize("size", [1, 2, 3, 7, 1000])
def test_elements_parsed_across_any_chunk_boundary(size):
    document = [{"assortmentId": "ид-Ω", "stock": 12.5}, 1234567, "a,]b", [], None,
                {"nested": [1, {"x": "}"}]}]  # fmt: skip
    data = b"\xef\xbb\xbf \n" + json.dumps(document, ensure_ascii=False).encode() + b" \n"
    assert list(iter_json_array(pieces(data, size))) == document


def test_empty_array_and_whitespace():
    assert list(iter_json_array([b" [ ", b" ] "])) == []


@pytest.mark.parametrize("data, words", [
    (b'{"rows": []}', "found an object"),
    (b"", "found nothing"),
    (b'[{"a": 1}] x', "text after the array"),
    (b'[{"a": 1}, {"b": ', "malformed JSON"),
    (b'[{"a": 1}', "cut off"),
    (b'[{"a": 1} {"b": 2}]', "expected ','"),
    (b'[1,]', "malformed JSON"),
    (b'[\xff]', "not UTF-8"),
])  # fmt: skip
def test_anything_but_one_array_is_malformed(data, words):
    with pytest.raises(MalformedJson) as caught:
        list(iter_json_array(pieces(data, 3)))
    assert words in str(caught.value)


def test_elements_come_before_the_input_ends():
    def chunks():
        yield b'[{"n": 1},'
        yield b'{"n": 2},'
        raise AssertionError("read too far")

    elements = iter_json_array(chunks())
    assert next(elements) == {"n": 1}


# -- the client ---------------------------------------------------------------------------------
def rows(count, start=0):
    return [{"assortmentId": f"00000000-0000-0000-0000-{i:012d}", "storeId": STORE_ID,
             "stock": i} for i in range(start, start + count)]  # fmt: skip


def test_rows_in_batches_with_gzip(fake):
    with responses.RequestsMock() as mocked:
        body = gzip.compress(json.dumps(rows(12_000) + [{"storeId": STORE_ID, "stock": 1}])
                             .encode())  # fmt: skip
        mocked.add(responses.GET, STOCK_URL, body=body, headers={"Content-Encoding": "gzip"},
                   content_type="application/json")  # fmt: skip
        stream = make_client(fake).iter_stock_rows(stock_type="stock", batch=5000)
        sizes = [len(batch) for batch in stream]
    assert sizes == [5000, 5000, 2000]
    assert stream.skipped == 1 and stream.full is True


def test_stock_report_still_whole_for_small_callers(fake):
    with responses.RequestsMock() as mocked:
        mocked.add(responses.GET, STOCK_URL,
                   json=[{"assortmentId": PRODUCT_ID, "storeId": STORE_ID, "stock": 2}])
        report = make_client(fake).stock()
    assert [(r.assortment_id, r.quantity) for r in report.rows] == [(PRODUCT_ID, Decimal("2"))]


def test_error_status_keeps_its_class(fake):
    with responses.RequestsMock() as mocked:
        mocked.add(responses.GET, STOCK_URL, status=412,
                   json={"errors": [{"error": "Нет прав", "code": 1016}]})
        with pytest.raises(Exception) as caught:
            list(make_client(fake, max_retries=0).iter_stock_rows())
    assert not isinstance(caught.value, (BadResponse, ServiceUnavailable))
    assert caught.value.service_code == 1016


class _SlowReport(BaseHTTPRequestHandler):
    """Half of a report, then the rest only once the test says so (chunked, like MoySklad)."""

    gate = None
    broken = False
    first, second = b"", b""

    def do_GET(self):  # noqa: N802
        self.send_response(200)
        self.send_header("Content-Type", "application/json;charset=utf-8")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for part in (self.first, None, self.second):
            if part is None:
                if self.broken:
                    self.wfile.flush()
                    self.connection.close()
                    return
                self.gate.wait(5)
                continue
            self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")

    def log_message(self, *args):
        pass


@pytest.fixture
def slow_server():
    data = json.dumps(rows(3000)).encode()
    cut = data.index(b"},", len(data) * 2 // 3) + 2
    handler = type("Handler", (_SlowReport,), {"gate": threading.Event(), "first": data[:cut],
                                                "second": data[cut:]})  # fmt: skip
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server, handler.gate
    handler.gate.set()
    server.shutdown()
    server.server_close()


def test_first_rows_handed_over_while_the_answer_is_still_coming(slow_server):
    server, gate = slow_server
    base = f"http://127.0.0.1:{server.server_address[1]}/api/remap/1.2"
    client = make_client(FakeTime(), base_url=base)
    batches = iter(client.iter_stock_rows(batch=1000))
    first = next(batches)
    assert len(first) == 1000
    assert not gate.is_set(), "a batch came before the server sent the rest"
    gate.set()
    assert sum(len(batch) for batch in batches) == 2000


def test_answer_cut_off_while_read_is_service_unavailable(slow_server):
    server, gate = slow_server
    server.RequestHandlerClass.broken = True  # the connection drops after the first part
    base = f"http://127.0.0.1:{server.server_address[1]}/api/remap/1.2"
    client = make_client(FakeTime(), base_url=base)
    with pytest.raises(ServiceUnavailable) as caught:
        list(client.iter_stock_rows(batch=1000))
    assert "cut off" in caught.value.message


@pytest.fixture
def fake():
    return FakeTime()
