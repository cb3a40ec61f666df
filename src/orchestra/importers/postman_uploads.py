"""The files a Postman collection's form-data fields upload (``type: file``, ``src``) or a curl command's
``-F name=@file`` sends, read when it is converted, so that their content travels in the test case (base64,
testcase_model.MultipartFile) to wherever it runs, embedded or on a server.

A ``src`` is read as newman reads it: a relative path from the working directory (the folder the command
runs in), an absolute path as it is. Unlike newman's default, a path that leads outside the working
directory (an absolute path elsewhere, ``..``, a symbolic link out) is refused, as newman's
``--no-insecure-file-read`` refuses it: a collection shared with you cannot make the run read your other
files. A missing or unreadable file refuses the collection with the request and path named, where newman
sends the request without the part and only warns. The files of one collection are at most
``MAX_UPLOAD_BYTES`` in all (a test case is one definition file of at most 1 MiB).
"""

from __future__ import annotations

import base64
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from orchestra.importers.requests import ImportRefused

MAX_UPLOAD_BYTES = 512 * 1024


@dataclass
class UploadFolder:
    """Reads the files of form-data fields under ``root`` (the working directory), keeping count."""

    root: Path
    read_bytes: int = field(default=0, init=False)

    def part(self, src: str, content_type: str, where: str) -> dict[str, str]:
        """The multipart file part (testcase_model.MultipartFile) of the file ``src``."""
        content = self.read(src, where)
        part = {"filename": Path(src).name, "content_base64": base64.b64encode(content).decode("ascii")}
        if content_type:
            part["content_type"] = content_type
        return part

    def read(self, src: str, where: str) -> bytes:
        """The bytes of the file ``src``, counted against the limit."""
        root = self.root.resolve()
        path = (root / src).resolve()  # an absolute src stays itself; links and ".." are followed
        if not path.is_relative_to(root):
            raise ImportRefused(
                f"{where}: the file {src[:300]!r} is outside the working directory {root}: "
                "run from a folder that holds it (files elsewhere are not read)"
            )
        try:
            # O_NOFOLLOW: the resolved path is read as it is, not through a link put there since it was
            # checked; O_NONBLOCK: a FIFO does not hold the import (it is refused below, not read).
            descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
            with os.fdopen(descriptor, "rb") as handle:
                if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                    raise ImportRefused(f"{where}: {src[:300]!r} is not a regular file")
                content = handle.read(MAX_UPLOAD_BYTES - self.read_bytes + 1)
        except OSError as error:
            raise ImportRefused(f"{where}: cannot read the file {src[:300]!r}: {error.strerror}") from None
        self.read_bytes += len(content)
        if self.read_bytes > MAX_UPLOAD_BYTES:
            raise ImportRefused(
                f"{where}: the files read for uploads are larger than {MAX_UPLOAD_BYTES // 1024} KiB in all "
                "(they travel inside the test case)"
            )
        return content
