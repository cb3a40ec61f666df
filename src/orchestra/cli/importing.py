"""`orchestra import curl|har|openapi|postman`: test cases written into a folder, secrets kept out of them; a
re-imported OpenAPI suite updates what was generated and leaves what the user edited alone; Postman
collections given to `orchestra run` become folders of YAML first."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from rich.console import Console

from orchestra.cli.usage import UsageError
from orchestra.definitions.projects import ProjectDefinitions
from orchestra.importers.generated_files import Updates, updates

if TYPE_CHECKING:  # `orchestra run` of a collection needs none of these: imported where used
    from orchestra.cli.backends import Backend
    from orchestra.importers.openapi_suite import GeneratedFile, SuiteImport
    from orchestra.importers.requests import ImportResult


def check_targets(result: ImportResult, out: Path, *, overwrite: bool) -> None:
    """Refuse before anything is stored when a file to write exists and may not be replaced."""
    existing = [out / file.name for file in result.files if (out / file.name).exists()]
    if existing and not overwrite:
        listed = ", ".join(str(path) for path in existing[:5])
        raise UsageError(f"{listed} already exist(s): choose another folder or pass --overwrite")


def write_files(result: ImportResult, out: Path) -> list[Path]:
    """The imported test cases as YAML files in ``out`` (created)."""
    from orchestra.importers.convert import yaml_files

    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in yaml_files(result):
        (out / name).write_text(text, encoding="utf-8")
        written.append(out / name)
    return written


def report(
    result: ImportResult, out: Path, written: list[Path], console: Console, *, stored_in: str | None
) -> None:
    for path in written:
        console.print(f"wrote {path}", soft_wrap=True)
    for note in result.notes:
        console.print(f"note: {note}", soft_wrap=True)
    if result.secrets:
        names = ", ".join(f"{secret.name} ({secret.source})" for secret in result.secrets)
        if stored_in:
            console.print(f"secrets stored in environment {stored_in}: {names}", soft_wrap=True)
        else:
            console.print(
                f"secrets found, not written anywhere: {names}. Store them with --env (and --project), or "
                "give them to `orchestra run --secret NAME` (value from the environment variable NAME)",
                soft_wrap=True,
            )
    if result.base_url and not stored_in:
        console.print(
            f"run them with: orchestra run {out} --base-url {result.base_url}",
            soft_wrap=True,
        )


async def store_environment(backend: Backend, project: str, environment: str, result: ImportResult) -> None:
    """The environment the imported tests run against (its project created if missing): its base URL and
    the secrets found."""
    await backend.apply([ProjectDefinitions(project)])
    if result.base_url:
        await backend.ensure_environment(project, environment, result.base_url)
    if result.secrets:
        await backend.set_secrets(project, environment, {s.name: s.value for s in result.secrets})


def suite_writes(files: list[GeneratedFile], out: Path, *, overwrite: bool) -> Updates:
    """What a (re-)import does to each file of ``out`` (see ``generated_files.updates``): the folder's
    YAML files are read as they are."""
    existing: dict[str, str | None] = {}
    if out.is_dir():
        for path in sorted(out.glob("*.yaml")):
            if path.is_file():
                existing[path.name] = _read_existing(path)
    return updates({file.name: file.text for file in files}, existing, overwrite=overwrite)


def _read_existing(path: Path) -> str | None:
    try:
        with path.open("rb") as handle:
            return handle.read(2_000_001).decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def apply_suite_writes(result: SuiteImport, writes: Updates, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for file in result.files:
        if file.name in writes.to_write:
            (out / file.name).write_text(file.text, encoding="utf-8")
    for name in writes.removed:
        (out / name).unlink(missing_ok=True)


def report_suite(
    result: SuiteImport, writes: Updates, out: Path, console: Console, *, stored_in: str | None
) -> None:
    for name in writes.new:
        console.print(f"wrote {out / name}", soft_wrap=True)
    for name in writes.updated:
        console.print(f"updated {out / name}", soft_wrap=True)
    if writes.unchanged:
        console.print(f"unchanged: {len(writes.unchanged)} file(s)")
    for name in writes.kept:
        console.print(
            f"kept {out / name}: edited since it was generated (--overwrite replaces it)", soft_wrap=True
        )
    for name in writes.removed:
        console.print(
            f"removed {out / name}: generated for an operation no longer in the description", soft_wrap=True
        )
    for note in result.notes:
        console.print(f"note: {note}", soft_wrap=True)
    if result.secrets:
        listed = ", ".join(f"{secret.name} ({secret.purpose})" for secret in result.secrets)
        console.print(f"secrets the tests read (never written into them): {listed}", soft_wrap=True)
    given = " ".join(f"--secret {secret.name}" for secret in result.secrets)
    target = f"--env {stored_in.split('/', 1)[1]}" if stored_in else f"--base-url {result.base_url or 'URL'}"
    spec = "" if stored_in else " --openapi SPEC"
    console.print(f"run them with: orchestra run {out} {target}{spec} {given}".rstrip(), soft_wrap=True)


async def read_spec(source: str) -> tuple[str, str | None]:
    """The text of an OpenAPI description from a file or an http(s) URL, and that URL."""
    from orchestra.openapi.errors import DescriptionTooLarge
    from orchestra.openapi.load import FETCH_TIMEOUT_S, MAX_DOCUMENT_BYTES

    if urlsplit(source).scheme in ("http", "https"):
        return await _fetch(source, FETCH_TIMEOUT_S, MAX_DOCUMENT_BYTES), source
    path = Path(source)
    if not path.is_file():
        raise UsageError(f"no such file: {source} (give a file, or an http(s) URL)")
    try:
        with path.open("rb") as handle:
            content = handle.read(MAX_DOCUMENT_BYTES + 1)
    except OSError as error:
        raise UsageError(f"cannot read {source}: {error.strerror}") from None
    if len(content) > MAX_DOCUMENT_BYTES:
        raise DescriptionTooLarge(f"{source} is larger than {MAX_DOCUMENT_BYTES // (1024 * 1024)} MiB")
    try:
        return content.decode("utf-8"), None
    except UnicodeDecodeError:
        raise UsageError(f"{source} is not UTF-8 text") from None


async def _fetch(url: str, timeout_s: float, max_bytes: int) -> str:
    """GET the description (from the user's own machine: no egress policy applies to the CLI's reads)."""
    import httpx

    from orchestra.openapi.errors import DescriptionTooLarge

    try:
        async with (
            httpx.AsyncClient(timeout=timeout_s, follow_redirects=True) as client,
            client.stream("GET", url) as response,
        ):
            if response.status_code != 200:
                raise UsageError(f"GET {url} answered {response.status_code}, expected 200")
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body.extend(chunk)
                if len(body) > max_bytes:
                    raise DescriptionTooLarge(
                        f"the description at {url} is larger than {max_bytes // (1024 * 1024)} MiB"
                    )
    except httpx.HTTPError as error:
        raise UsageError(f"GET {url} failed: {str(error) or type(error).__name__}") from None
    try:
        return bytes(body).decode("utf-8")
    except UnicodeDecodeError:
        raise UsageError(f"the description at {url} is not UTF-8 text") from None


async def store_suite_environment(
    backend: Backend, project: str, environment: str, result: SuiteImport, text: str
) -> None:
    """The environment the generated suite runs against: its base URL, and the description imported
    into it (the tests' data is planned from it)."""
    from orchestra.environments.openapi_schemas import SpecImport

    if not result.base_url:
        raise UsageError("the description names no server: give --base-url to store the environment")
    await backend.apply([ProjectDefinitions(project)])
    await backend.ensure_environment(project, environment, result.base_url)
    await backend.import_openapi(project, environment, SpecImport(text=text))


def is_postman_collection(path: Path) -> bool:
    """A ``.json`` file whose start reads like a Postman collection (its ``info`` names a Postman schema)."""
    if path.suffix.lower() != ".json" or not path.is_file():
        return False
    try:
        with path.open("rb") as handle:
            start = handle.read(65_536)
    except OSError:
        return False
    return b'"info"' in start and b"postman" in start.lower()


def collections_as_folders(
    paths: list[Path],
    scratch: Path,
    *,
    environment: Path | None,
    globals_: Path | None,
    folders: list[str],
) -> tuple[list[Path], list[ImportResult]]:
    """``paths`` with every Postman collection among them written as a folder of YAML under ``scratch``
    (named after the collection: the project it runs in), and what each conversion found."""
    collections = [path for path in paths if is_postman_collection(path)]
    if (environment or globals_ or folders) and not collections:
        raise UsageError("--environment, --globals and --folder go with a Postman collection (a .json file)")
    if not collections:
        return paths, []  # YAML only: the converters are not even imported
    from orchestra.importers.convert import from_postman
    from orchestra.importers.postman_files import MAX_POSTMAN_BYTES

    def read(path: Path) -> bytes:
        try:
            with path.open("rb") as handle:
                return handle.read(MAX_POSTMAN_BYTES + 1)
        except OSError as error:
            raise UsageError(f"cannot read {path}: {error.strerror}") from None

    environment_file = read(environment) if environment else None  # once, for every collection
    globals_file = read(globals_) if globals_ else None
    converted: list[Path] = []
    results: list[ImportResult] = []
    for path in paths:
        if path not in collections:
            converted.append(path)
            continue
        result = from_postman(
            read(path),
            name=path.name,
            environment=environment_file,
            globals_=globals_file,
            folders=folders,
            declarative=False,  # every pm.test a check of its own name, as newman reports it
            working_dir=Path.cwd(),  # form-data files, as newman reads them
        )
        folder = scratch / (
            path.name.removesuffix(".json").removesuffix(".postman_collection") or "collection"
        )
        write_files(result, folder)
        converted.append(folder)
        results.append(result)
    return converted, results
