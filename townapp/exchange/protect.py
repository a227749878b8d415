"""Password protection of workbooks that travel on USB sticks: standard Office encryption.

A package with full ID numbers is encrypted the way Excel and WPS do it ("用密码进行加密",
ECMA-376 agile encryption, msoffcrypto-tool), so the county opens it with the password in
Excel or WPS and needs no other software. The clear workbook is never written next to the
encrypted one: it is made in the laptop's own temporary folder and removed at once.

There is no way back from a lost password — the township exports the package again with a
new one; the user is told so when choosing it.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from townapp.core.errors import DomainError, FieldProblem, ValidationFailed

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
MIN_PASSWORD = 6
LOST_PASSWORD = ("密码只保存在您和接收方手中，程序不保存：忘记密码就无法打开这个文件，只能重新导出一份（设新密码）。"
                 "请把密码另行告诉县里（电话或当面），不要写在U盘上。")


class WrongPassword(DomainError):
    """The file is encrypted and the password does not open it (or none was given)."""


def password_problems(password: str, again: str | None = None) -> list[FieldProblem]:
    """A password the user chose: long enough and typed the same twice."""
    problems = []
    if len(password) < MIN_PASSWORD:
        problems.append(FieldProblem("password", f"密码至少{MIN_PASSWORD}位"))
    if password != password.strip():
        problems.append(FieldProblem("password", "密码前后不能有空格"))
    if again is not None and again != password:
        problems.append(FieldProblem("again", "两次输入的密码不一致"))
    return problems


def is_encrypted(path: Path) -> bool:
    """Whether ``path`` is an Office file protected with an open password (an OLE container holding the
    encrypted workbook)."""
    try:
        with open(path, "rb") as handle:
            if handle.read(len(OLE_MAGIC)) != OLE_MAGIC:
                return False  # every .xlsx import: decided without loading msoffcrypto and cryptography
            import msoffcrypto

            handle.seek(0)
            return bool(msoffcrypto.OfficeFile(handle).is_encrypted())
    except Exception:  # noqa: BLE001 (unreadable, or msoffcrypto's bare Exceptions on a foreign OLE file)
        return False


def encrypt_file(plain: Path, out: Path, password: str) -> None:
    """Write ``plain`` (an .xlsx) encrypted with ``password`` to ``out``, then read it back with the password
    and compare: a file that does not open with it is never left."""
    from msoffcrypto.format.ooxml import OOXMLFile

    problems = password_problems(password)
    if problems:
        raise ValidationFailed(problems)
    with open(plain, "rb") as source, open(out, "wb") as target:
        OOXMLFile(source).encrypt(password, target)
        target.flush()
        os.fsync(target.fileno())
    expected = hashlib.sha256(plain.read_bytes()).hexdigest()
    if hashlib.sha256(decrypt_bytes(out, password)).hexdigest() != expected:
        raise DomainError("加密后核对失败（用密码读回的内容与原文件不同），未生成文件。请检查U盘或磁盘空间后重试")


def decrypt_bytes(path: Path, password: str | None) -> bytes:
    """The workbook inside an encrypted file; WrongPassword with a Chinese message when it does not open."""
    import msoffcrypto
    from msoffcrypto.exceptions import DecryptionError, InvalidKeyError

    if not password:
        raise WrongPassword(f"{path.name} 设置了打开密码：请输入密码后再导入（命令行用 --password）")
    with open(path, "rb") as handle:
        office = msoffcrypto.OfficeFile(handle)
        try:
            office.load_key(password=password, verify_password=True)
            plain = io.BytesIO()
            office.decrypt(plain)
        except (InvalidKeyError, DecryptionError):
            raise WrongPassword(f"密码不正确，无法打开 {path.name}。请核对密码（区分大小写和全角、半角）后重试；"
                                "忘记密码只能请对方重新导出一份") from None
        except Exception as exc:  # noqa: BLE001 (a damaged or foreign container)
            raise WrongPassword(f"{path.name} 无法解密（{exc}）：文件可能已损坏，请重新拷贝") from None
    return plain.getvalue()


@contextlib.contextmanager
def private_copy(suffix: str = ".xlsx") -> Iterator[Path]:
    """A temporary file in the laptop's own temporary folder (never on the USB stick), removed afterwards."""
    fd, name = tempfile.mkstemp(prefix="townapp-", suffix=suffix)
    os.close(fd)
    path = Path(name)
    try:
        yield path
    finally:
        with contextlib.suppress(OSError):
            path.unlink()


@contextlib.contextmanager
def readable(path: Path, password: str | None) -> Iterator[Path]:
    """``path`` itself, or for an encrypted workbook its decrypted copy in a private temporary file."""
    if not is_encrypted(path):
        yield path
        return
    data = decrypt_bytes(path, password)
    with private_copy(".xlsx") as copy:
        copy.write_bytes(data)
        yield copy
