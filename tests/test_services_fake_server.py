"""A real HTTP server on loopback that answers like the public services, scripted per test.

``FakeService`` runs ``http.server.ThreadingHTTPServer`` on 127.0.0.1 with an ephemeral
port in a thread. A test scripts answers per path (``service.script(path, Reply(...), ...)``):
they are given in order, the last one again for every later request. Every request is
recorded (method, path, query, headers, body) so a test can check what the client sent.
Also holds builders of real-format bodies (KNMI daily text, BRO GLD XML).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest


@dataclass
class Reply:
    status: int = 200
    body: bytes | str = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0  # sleep before answering (to provoke a client timeout)
    content_type: str = "text/plain; charset=utf-8"


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    @property
    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.body.decode()).items()}


class FakeService:
    def __init__(self) -> None:
        self.scripts: dict[str, list[Reply]] = {}
        self.requests: list[Request] = []
        self.times: list[float] = []
        service = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                service.requests.append(Request(self.command, parts.path, parse_qs(parts.query),
                                                dict(self.headers.items()), body))
                service.times.append(time.monotonic())
                script = service.scripts.get(parts.path)
                reply = (script.pop(0) if len(script) > 1 else script[0]) if script else Reply(404, "not found")
                if reply.delay_s:
                    time.sleep(reply.delay_s)
                payload = reply.body.encode() if isinstance(reply.body, str) else reply.body
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", reply.content_type)
                    self.send_header("Content-Length", str(len(payload)))
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting: that is what the timeout test wants

            do_GET = do_POST = _answer

            def log_message(self, *args) -> None:  # keep test output clean
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def script(self, path: str, *replies: Reply) -> None:
        self.scripts[path] = list(replies)

    def requests_to(self, path: str) -> list[Request]:
        return [r for r in self.requests if r.path == path]


@pytest.fixture
def fake_service():
    service = FakeService()
    service.thread.start()
    yield service
    service.server.shutdown()
    service.server.server_close()


# --- real-format bodies ---------------------------------------------------------------------

KNMI_LEGEND = """\
# BRON: KONINKLIJK NEDERLANDS METEOROLOGISCH INSTITUUT (KNMI)
# Opmerking: door stationsverplaatsingen en veranderingen in waarneemmethodieken zijn deze tijdreeksen van dagwaarden mogelijk inhomogeen! Dat betekent dat deze reeks van gemeten waarden niet geschikt is voor trendanalyse.
# 
# STN         LON(east)   LAT(north)  ALT(m)      NAME
# 260         5.180       52.100      1.90        De Bilt
# 348         4.926       51.970      -0.70       Cabauw Mast
# 
# RH        : Etmaalsom van de neerslag (in 0.1 mm) (-1 voor <0.05 mm) / Daily precipitation amount (in 0.1 mm) (-1 for <0.05 mm)
# EV24      : Referentiegewasverdamping (Makkink) (in 0.1 mm) / Potential evapotranspiration (Makkink) (in 0.1 mm)
# 
# STN,YYYYMMDD,   RH, EV24
"""


def knmi_daily_body(rows: list[tuple[str, str, int | None, int | None]]) -> bytes:
    """KNMI daily text as the script service writes it: legend, header, fixed-width lines, CRLF.
    ``rows`` are (station, YYYYMMDD, RH, EV24) in KNMI's 0.1 mm; None is a blank field."""
    def field_(v: int | None) -> str:
        return f"{'' if v is None else v:>5}"

    lines = KNMI_LEGEND.splitlines()
    lines += [f"  {stn},{day},{field_(rh)},{field_(ev)}" for stn, day, rh, ev in rows]
    return ("\r\n".join(lines) + "\r\n").encode("ascii")


def gld_body(gld_id: str, gmw_id: str, tube: int, observations: list[dict]) -> bytes:
    """A BRO GLD ``dispatchDataResponse`` as publiek.broservices.nl serves it (trimmed).
    Each observation: ``status`` (volledigBeoordeeld/voorlopig), ``kind``
    (reguliereMeting/controleMeting), ``points`` [(time ISO with offset, value or None, qualifier)]."""
    obs_xml = []
    for i, obs in enumerate(observations):
        points = []
        for when, value, qualifier in obs["points"]:
            value_xml = (f'<waterml:value uom="m">{value}</waterml:value>' if value is not None
                         else '<waterml:value uom="m" xsi:nil="true"/>')
            points.append(f"""
              <waterml:point><waterml:MeasurementTVP>
                <waterml:time>{when}</waterml:time>
                {value_xml}
                <waterml:metadata><waterml:TVPMeasurementMetadata><waterml:qualifier>
                  <swe:Category definition="urn:bro:gld:StatusQualityControl">
                    <swe:codeSpace xlink:href="urn:bro:gld:StatusQualityControl"/>
                    <swe:value>{qualifier}</swe:value>
                  </swe:Category>
                </waterml:qualifier></waterml:TVPMeasurementMetadata></waterml:metadata>
              </waterml:MeasurementTVP></waterml:point>""")
        obs_xml.append(f"""
      <observation>
        <om:OM_Observation gml:id="_{gld_id}_{i}">
          <om:type xlink:href="http://www.opengis.net/def/observationType/waterml/2.0/MeasurementTimeseriesTVPObservation"/>
          <om:metadata><waterml:ObservationMetadata>
            <waterml:status xlink:href="urn:bro:gld:StatusCode:{obs['status']}"/>
            <waterml:parameter><om:NamedValue>
              <om:name xlink:href="urn:bro:gld:ObservationMetadata:observationType"/>
              <om:value xsi:type="gml:CodeWithAuthorityType" codeSpace="urn:bro:gld:ObservationType">{obs['kind']}</om:value>
            </om:NamedValue></waterml:parameter>
          </waterml:ObservationMetadata></om:metadata>
          <om:procedure xlink:href="#_proc_{i}"/>
          <om:observedProperty xlink:href="urn:bro:gld:ObservedProperty:grondwaterstand"/>
          <om:result>
            <waterml:MeasurementTimeseries gml:id="_mts_{i}">{''.join(points)}
            </waterml:MeasurementTimeseries>
          </om:result>
        </om:OM_Observation>
      </observation>""")
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<dispatchDataResponse xmlns="http://www.broservices.nl/xsd/dsgld/1.0"
    xmlns:brocom="http://www.broservices.nl/xsd/brocommon/3.0"
    xmlns:gldcommon="http://www.broservices.nl/xsd/gldcommon/1.0"
    xmlns:gml="http://www.opengis.net/gml/3.2" xmlns:om="http://www.opengis.net/om/2.0"
    xmlns:swe="http://www.opengis.net/swe/2.0" xmlns:waterml="http://www.opengis.net/waterml/2.0"
    xmlns:xlink="http://www.w3.org/1999/xlink" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <brocom:responseType>dispatch</brocom:responseType>
  <brocom:dispatchTime>2026-07-01T10:00:00+02:00</brocom:dispatchTime>
  <dispatchDocument>
    <GLD_O gml:id="{gld_id}">
      <brocom:broId>{gld_id}</brocom:broId>
      <brocom:deliveryAccountableParty>27376655</brocom:deliveryAccountableParty>
      <brocom:qualityRegime>IMBRO</brocom:qualityRegime>
      <monitoringPoint>
        <gldcommon:GroundwaterMonitoringTube>
          <gldcommon:broId>{gmw_id}</gldcommon:broId>
          <gldcommon:tubeNumber>{tube}</gldcommon:tubeNumber>
        </gldcommon:GroundwaterMonitoringTube>
      </monitoringPoint>{''.join(obs_xml)}
    </GLD_O>
  </dispatchDocument>
</dispatchDataResponse>
""".encode("utf-8")


def test_fake_service_answers_in_script_order_then_repeats_the_last(fake_service):
    import httpx

    fake_service.script("/x", Reply(503, "busy"), Reply(200, "ok"))
    answers = [httpx.get(fake_service.url("/x")).status_code for _ in range(3)]
    assert answers == [503, 200, 200]
    assert httpx.get(fake_service.url("/unscripted")).status_code == 404
