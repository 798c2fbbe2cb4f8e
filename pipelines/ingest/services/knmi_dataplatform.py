"""KNMI Data Platform open-data API: list a dataset's files, download the ones wanted.

``GET {base}/open-data/v1/datasets/{name}/versions/{version}/files`` lists files a page at
a time (``maxKeys``, ``nextPageToken``, ``orderBy``, ``sorting``, and ``begin``/``end``
filters on the file name); ``GET .../files/{filename}/url`` gives a short-lived
``temporaryDownloadUrl``. Both need the header ``Authorization: <api key>``; the download
itself does not, and the key is not sent there (it is a pre-signed link to other storage).

The API key comes from the environment variable ``KNMI_API_KEY`` or, when that is unset, a
Prefect Secret block named ``knmi-api-key``. Prefect is only asked when the key is first
needed, so the client works without Prefect. The key never appears in a log line or an
error message.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from pipelines.ingest.services.http import HttpClient, ServiceResponseError, looks_like_html
from pipelines.ingest.services.knmi_daggegevens import Download

DATAPLATFORM_URL = "https://api.dataplatform.knmi.nl"
API_KEY_VARIABLE = "KNMI_API_KEY"
API_KEY_SECRET_BLOCK = "knmi-api-key"


class MissingApiKeyError(RuntimeError):
    """No KNMI Data Platform API key was found where one may be kept."""


def _load_prefect_secret(name: str) -> str:
    from prefect.blocks.system import Secret  # lazy: only when the environment has no key

    return str(Secret.load(name).get())


def knmi_api_key(
    *,
    environ: Mapping[str, str] = os.environ,
    secret_block: str = API_KEY_SECRET_BLOCK,
    load_secret: Callable[[str], str] = _load_prefect_secret,
) -> str:
    """The Data Platform API key: ``$KNMI_API_KEY``, else the Prefect Secret ``knmi-api-key``.

    Raises :class:`MissingApiKeyError` saying where it looked (never what it found).
    """
    key = environ.get(API_KEY_VARIABLE, "").strip()
    if key:
        return key
    try:
        key = (load_secret(secret_block) or "").strip()
    except Exception as exc:  # any Prefect trouble (no block, no API) means: no key there
        problem = f"the Prefect Secret block {secret_block!r} could not be read ({type(exc).__name__})"
    else:
        if key:
            return key
        problem = f"the Prefect Secret block {secret_block!r} is empty"
    raise MissingApiKeyError(
        f"no KNMI Data Platform API key: the environment variable {API_KEY_VARIABLE} is unset and {problem}. "
        "Request a key at https://developer.dataplatform.knmi.nl/ and set one of the two.")


@dataclass(frozen=True)
class DatasetFile:
    """One file of a dataset as the listing describes it (``size`` in bytes, times in UTC)."""

    filename: str
    size: int | None
    created: str | None
    last_modified: str | None


class KnmiDataPlatform:
    """Client of the KNMI Data Platform open-data API.

    ``api_key`` may be given directly; otherwise :func:`knmi_api_key` is asked on the first
    request. ``base_url`` can point at a test server.
    """

    def __init__(
        self,
        client: HttpClient,
        *,
        api_key: str | None = None,
        base_url: str = DATAPLATFORM_URL,
        key_source: Callable[[], str] = knmi_api_key,
    ) -> None:
        self.client = client
        self.base_url = base_url.rstrip("/")
        self._api_key = api_key
        self._key_source = key_source

    def _headers(self) -> dict[str, str]:
        if self._api_key is None:
            self._api_key = self._key_source()
        self.client.hide(self._api_key)  # should a server echo it, it still never reaches a message
        return {"Authorization": self._api_key}

    def _files_url(self, dataset: str, version: str) -> str:
        return f"{self.base_url}/open-data/v1/datasets/{quote(dataset)}/versions/{quote(version)}/files"

    def _json(self, url: str, params: Mapping[str, str | int] | None = None) -> dict:
        response = self.client.get(url, params=params, headers=self._headers())
        try:
            document = json.loads(response.content)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            kind = "an HTML page" if looks_like_html(response.content) else f"invalid JSON ({exc})"
            raise ServiceResponseError(url, f"expected JSON, got {kind} ({len(response.content)} bytes)") from None
        if not isinstance(document, dict):
            raise ServiceResponseError(url, f"expected a JSON object, got {type(document).__name__}")
        return document

    def list_files(
        self,
        dataset: str,
        version: str,
        *,
        begin: str | None = None,
        end: str | None = None,
        order_by: str = "filename",
        sorting: str = "asc",
        max_keys: int = 500,
    ) -> list[DatasetFile]:
        """All files of ``dataset`` ``version`` (following every page), optionally only names
        from ``begin`` to ``end`` (the API compares file names, which for KNMI carry the date)."""
        url = self._files_url(dataset, version)
        params: dict[str, str | int] = {"maxKeys": max_keys, "orderBy": order_by, "sorting": sorting}
        if begin:
            params["begin"] = begin
        if end:
            params["end"] = end
        files: list[DatasetFile] = []
        seen_tokens: set[str] = set()
        while True:
            page = self._json(url, params)
            entries = page.get("files")
            if not isinstance(entries, list):
                raise ServiceResponseError(url, "expected a 'files' list in the listing")
            for entry in entries:
                if not isinstance(entry, dict) or not entry.get("filename"):
                    raise ServiceResponseError(url, f"expected file entries with a 'filename', got {entry!r:.120}")
                files.append(DatasetFile(str(entry["filename"]), entry.get("size"), entry.get("created"),
                                         entry.get("lastModified")))
            token = page.get("nextPageToken")
            if not token or not page.get("isTruncated", True):
                return files
            if token in seen_tokens:  # a service that hands the same page again would loop forever
                raise ServiceResponseError(url, f"the listing repeats page token {token!r:.40}")
            seen_tokens.add(token)
            params = {**params, "nextPageToken": token}

    def download_url(self, dataset: str, version: str, filename: str) -> str:
        """The short-lived download link for one file."""
        url = f"{self._files_url(dataset, version)}/{quote(filename)}/url"
        link = self._json(url).get("temporaryDownloadUrl")
        if not isinstance(link, str) or not link:
            raise ServiceResponseError(url, "expected 'temporaryDownloadUrl' in the answer")
        return link

    def download(self, dataset: str, version: str, filename: str, folder: Path) -> Download:
        """Download one file into ``folder`` under its own name, unchanged."""
        if Path(filename).name != filename or filename in {"", ".", ".."}:
            raise ValueError(f"refusing a file name with a folder in it: {filename!r}")
        link = self.download_url(dataset, version, filename)
        # the pre-signed link carries its own credentials; our key must not travel there
        response = self.client.get(link)
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / filename
        path.write_bytes(response.content)
        return Download(path, link, dt.datetime.now(dt.timezone.utc))
