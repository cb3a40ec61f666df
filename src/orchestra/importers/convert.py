"""The importers' entry points: a text or file in, test cases (as YAML files) and the secrets found out."""

from __future__ import annotations

from pathlib import Path, PurePath
from urllib.parse import urlsplit

from orchestra.definitions.loader import DefinitionError, validate_test_case_data
from orchestra.definitions.yaml_text import dump
from orchestra.importers import curl, har, postman, postman_files
from orchestra.importers.postman_uploads import UploadFolder
from orchestra.importers.requests import ImportedRequest, ImportRefused, ImportResult, test_cases_of


def _validated(result: ImportResult) -> ImportResult:
    for file in result.files:
        try:
            validate_test_case_data(file.definition)
        except DefinitionError as error:
            raise ImportRefused(f"{file.name}: {error}") from None
    return result


def _name(request: ImportedRequest) -> str:
    return f"{request.method} {urlsplit(request.url).path or '/'}"


def from_curl(text: str, *, keep_credentials: bool = False, working_dir: Path | None = None) -> ImportResult:
    """One test case per curl command, each with one step that expects a 2xx answer; ``working_dir``: where
    the files of ``-F name=@file`` are read (none: such a command is refused)."""
    requests = curl.parse_curl_text(text, UploadFolder(working_dir) if working_dir is not None else None)
    groups = [(_name(request), [request]) for request in requests]
    return _validated(
        test_cases_of(groups, keep_credentials=keep_credentials, description="Imported from curl.")
    )


def from_har(
    content: bytes, *, name: str, include: list[str] | None = None, keep_credentials: bool = False
) -> ImportResult:
    """One test case of the HAR's requests, in order, each expecting what was observed."""
    requests, notes = har.parse_har(content, include)
    title = PurePath(name).stem or "recorded session"
    result = test_cases_of(
        [(title, requests)],
        keep_credentials=keep_credentials,
        description=f"Imported from the HAR file {name}.",
    )
    result.notes[:0] = notes
    return _validated(result)


def from_postman(
    collection: bytes,
    *,
    name: str,
    environment: bytes | None = None,
    globals_: bytes | None = None,
    folders: list[str] | None = None,
    declarative: bool = True,
    working_dir: Path | None = None,
) -> ImportResult:
    """One test case of the collection's requests in order (see importers/postman.py); ``folders``: only
    the requests under these folders; ``declarative``: see postman.convert; ``working_dir``: where the
    files of form-data file fields are read (importers/postman_uploads.py; none: they are left out)."""
    uploads = UploadFolder(working_dir) if working_dir is not None else None
    parsed = postman.only_folders(postman_files.parse_collection(collection), folders or [])
    env = postman_files.parse_variables_file(environment, "environment") if environment is not None else []
    glob = postman_files.parse_variables_file(globals_, "globals file") if globals_ is not None else []
    return _validated(
        postman.convert(parsed, env, glob, file_name=name, declarative=declarative, uploads=uploads)
    )


def yaml_files(result: ImportResult) -> list[tuple[str, str]]:
    """(file name, YAML text) of each imported test case."""
    return [(file.name, dump(file.definition)) for file in result.files]
