"""An OTLP/HTTP receiver of traces and logs built on OpenTelemetry's official protobuf
definitions.

Listens on 127.0.0.1 (an ephemeral port, printed as `listening PORT`), accepts
`POST /v1/traces` and `POST /v1/logs` in the JSON encoding of OTLP (hex trace and span
ids, as the specification says) or in protobuf, and reads every body into an
`ExportTraceServiceRequest` or `ExportLogsServiceRequest`, refusing unknown fields. Each
span is printed as one JSON line (`span {...}`) with its ids in hex, its attributes as a
dictionary and its times, each log record as `log {...}`; a body that does not read is
answered 400 and printed as `invalid ...`.
"""

import base64
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from google.protobuf import json_format
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsServiceRequest,
    ExportLogsServiceResponse,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

SIGNALS = {
    "/v1/traces": (ExportTraceServiceRequest, ExportTraceServiceResponse),
    "/v1/logs": (ExportLogsServiceRequest, ExportLogsServiceResponse),
}

ID_FIELDS = ("traceId", "spanId", "parentSpanId")


def hex_ids_to_base64(node):
    """OTLP JSON writes ids in hex; the protobuf JSON mapping of bytes is base64."""
    if isinstance(node, dict):
        for key, value in list(node.items()):
            if key in ID_FIELDS and isinstance(value, str):
                if len(value) not in (16, 32) or value != value.lower():
                    raise ValueError(f"{key} {value!r} is not a lowercase hex id")
                node[key] = base64.b64encode(bytes.fromhex(value)).decode()
            else:
                hex_ids_to_base64(value)
    elif isinstance(node, list):
        for item in node:
            hex_ids_to_base64(item)


def value_of(any_value):
    kind = any_value.WhichOneof("value")
    if kind == "array_value":
        return [value_of(item) for item in any_value.array_value.values]
    return getattr(any_value, kind) if kind else None


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self):
        length = int(self.headers.get("content-length", "0"))
        body = self.rfile.read(length)
        request_type, response_type = SIGNALS.get(self.path, (None, None))
        try:
            if request_type is None:
                raise ValueError(f"unexpected path {self.path}")
            request = request_type()
            content_type = self.headers.get("content-type", "")
            if content_type.startswith("application/json"):
                document = json.loads(body)
                hex_ids_to_base64(document)
                json_format.ParseDict(document, request, ignore_unknown_fields=False)
            elif content_type.startswith("application/x-protobuf"):
                request.ParseFromString(body)
            else:
                raise ValueError(f"unexpected content type {content_type!r}")
        except Exception as error:  # noqa: BLE001 - every failure is reported
            print("invalid", json.dumps(str(error)), flush=True)
            self.send_response(400)
            self.end_headers()
            return
        if request_type is ExportLogsServiceRequest:
            self.print_logs(request)
        else:
            self.print_spans(request)
        self.answer(response_type().SerializeToString())

    def print_logs(self, request):
        for resource_logs in request.resource_logs:
            resource = {a.key: value_of(a.value) for a in resource_logs.resource.attributes}
            for scope_logs in resource_logs.scope_logs:
                for log in scope_logs.log_records:
                    record = {
                        "service": resource.get("service.name"),
                        "scope": scope_logs.scope.name,
                        "time": log.time_unix_nano,
                        "observed": log.observed_time_unix_nano,
                        "severity": log.severity_number,
                        "severity_text": log.severity_text,
                        "event_name": log.event_name,
                        "body": value_of(log.body),
                        "attributes": {a.key: value_of(a.value) for a in log.attributes},
                    }
                    print("log", json.dumps(record), flush=True)

    def print_spans(self, request):
        for resource_spans in request.resource_spans:
            resource = {a.key: value_of(a.value) for a in resource_spans.resource.attributes}
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    record = {
                        "service": resource.get("service.name"),
                        "scope": scope_spans.scope.name,
                        "trace_id": span.trace_id.hex(),
                        "span_id": span.span_id.hex(),
                        "parent_span_id": span.parent_span_id.hex(),
                        "name": span.name,
                        "kind": span.kind,
                        "start": span.start_time_unix_nano,
                        "end": span.end_time_unix_nano,
                        "status": span.status.code,
                        "attributes": {a.key: value_of(a.value) for a in span.attributes},
                    }
                    print("span", json.dumps(record), flush=True)

    def answer(self, answer):
        try:
            self.send_response(200)
            self.send_header("content-type", "application/x-protobuf")
            self.send_header("content-length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)
        except ConnectionError:
            pass  # the exporter went away (its process stopped): the spans were read

    def log_message(self, *args):
        pass


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    print("listening", server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
