"""Tests for kikan.platform.crypto: encryption, rotation, blind index, masking and redaction."""

from __future__ import annotations

import base64
import io
import logging
import os
import pickle
import stat
from collections.abc import Iterator
from hashlib import sha256
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kikan.platform import crypto
from kikan.platform.crypto import (
    CryptoConfigError,
    CryptoError,
    DecryptionError,
    KeyRing,
    MyNumber,
    MyNumberRedactingFilter,
    install_log_redaction,
    install_redacting_record_factory,
    redact_my_numbers,
)
from kikan.platform.ids import IdentifierError, my_number_check_digit

VALID = "983205673214"  # DOMAIN.md's verified vector
VALID_DIGITS_FRAGMENT = "98320567"
INVALID_CHECK = "123456789012"  # e.g. an order id: 12 digits, wrong check digit
TENANT = "131016"
OTHER_TENANT = "011002"


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


K1 = bytes(range(32))
K2 = bytes(range(100, 132))
K3 = bytes(range(200, 232))  # fixed: test ids must be identical across xdist workers


def ring(*ids: str, active: str | None = None, index: str | None = None) -> KeyRing:
    material = {"k1": K1, "k2": K2, "k3": K3}
    return KeyRing([(kid, material[kid]) for kid in ids], active, index_key_id=index)


@pytest.fixture(autouse=True)
def _restore_record_factory() -> Iterator[None]:
    factory = logging.getLogRecordFactory()
    yield
    logging.setLogRecordFactory(factory)


# --- encryption --------------------------------------------------------------------------------


def test_round_trip_and_token_shape() -> None:
    keys = ring("k1")
    token = keys.encrypt(VALID, context=TENANT)
    version, kid, payload = token.split(".")
    assert (version, kid) == ("v1", "k1")
    assert "=" not in payload
    assert VALID not in token
    assert keys.decrypt(token, context=TENANT) == VALID


@given(st.text())
def test_round_trip_any_text(plaintext: str) -> None:
    keys = ring("k1")
    assert keys.decrypt(keys.encrypt(plaintext, context=TENANT), context=TENANT) == plaintext


def test_encryption_is_randomised() -> None:
    keys = ring("k1")
    assert keys.encrypt(VALID, context=TENANT) != keys.encrypt(VALID, context=TENANT)


def test_rotation() -> None:
    old_ring = ring("k1")
    old_token = old_ring.encrypt(VALID, context=TENANT)
    assert not old_ring.needs_rotation(old_token)

    new_ring = ring("k1", "k2")  # k2 appended → active by default
    assert new_ring.active_key_id == "k2"
    assert new_ring.decrypt(old_token, context=TENANT) == VALID
    assert new_ring.needs_rotation(old_token)

    new_token = new_ring.encrypt(VALID, context=TENANT)
    assert new_token.startswith("v1.k2.")
    assert not new_ring.needs_rotation(new_token)

    rotated = new_ring.rotate(old_token, context=TENANT)
    assert rotated.startswith("v1.k2.")
    assert new_ring.decrypt(rotated, context=TENANT) == VALID
    assert new_ring.rotate(rotated, context=TENANT) == rotated

    # The old ring cannot read the new token.
    with pytest.raises(DecryptionError) as info:
        old_ring.decrypt(new_token, context=TENANT)
    assert info.value.code == "crypto.unknown_key"


def test_explicit_active_key() -> None:
    keys = ring("k1", "k2", active="k1")
    assert keys.encrypt("x", context=TENANT).startswith("v1.k1.")


def test_tamper_any_byte_of_the_payload() -> None:
    keys = ring("k1")
    token = keys.encrypt(VALID, context=TENANT)
    prefix, payload = token.rsplit(".", 1)
    blob = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    for i in range(len(blob)):
        for flip in (0x01, 0x80):
            tampered = bytearray(blob)
            tampered[i] ^= flip
            encoded = base64.urlsafe_b64encode(bytes(tampered)).rstrip(b"=").decode()
            with pytest.raises(DecryptionError):
                keys.decrypt(f"{prefix}.{encoded}", context=TENANT)


def test_tamper_header_and_truncation() -> None:
    keys = ring("k1", "k2", active="k1")
    token = keys.encrypt(VALID, context=TENANT)
    _, _, payload = token.split(".")
    bad_tokens = [
        f"v1.k2.{payload}",  # claims another key (both in the ring): AAD binds the kid
        f"v2.k1.{payload}",
        f"v1.k1.{payload[:-1]}",
        f"v1.k1.{payload[:10]}",
        "v1.k1.",
        f"v1.k1.{payload}!",
        f"v1.k1.{payload}.extra",
        "not a token",
        "",
        token + "A",
    ]
    for bad in bad_tokens:
        with pytest.raises(DecryptionError):
            keys.decrypt(bad, context=TENANT)


def test_wrong_context_fails() -> None:
    keys = ring("k1")
    token = keys.encrypt(VALID, context=TENANT)
    with pytest.raises(DecryptionError) as info:
        keys.decrypt(token, context=OTHER_TENANT)
    assert info.value.code == "crypto.authentication"
    assert isinstance(info.value, CryptoError)
    assert VALID not in str(info.value)


def test_unknown_kid_and_malformed_for_needs_rotation() -> None:
    keys = ring("k1")
    foreign = ring("k3").encrypt(VALID, context=TENANT)
    with pytest.raises(DecryptionError):
        keys.decrypt(foreign, context=TENANT)
    assert keys.needs_rotation(foreign)
    with pytest.raises(DecryptionError):
        keys.needs_rotation("garbage")


def test_empty_context_is_refused() -> None:
    keys = ring("k1")
    with pytest.raises(CryptoError) as info:
        keys.encrypt(VALID, context="")
    assert info.value.code == "crypto.context"
    with pytest.raises(CryptoError):
        keys.blind_index(VALID, context="")


def test_my_number_helpers() -> None:
    keys = ring("k1")
    number = MyNumber(VALID)
    token = keys.encrypt_my_number(number, context=TENANT)
    assert keys.decrypt_my_number(token, context=TENANT) == number
    bad = keys.encrypt(INVALID_CHECK, context=TENANT)
    with pytest.raises(IdentifierError):
        keys.decrypt_my_number(bad, context=TENANT)


def test_repr_shows_no_key_material() -> None:
    keys = ring("k1", "k2")
    text = repr(keys)
    assert "k1" in text
    assert "k2" in text
    assert b64(K1) not in text
    assert K1.hex() not in text
    assert not hasattr(keys, "__dict__")


# --- blind index -------------------------------------------------------------------------------


def test_blind_index_stable_across_rotation_and_per_context() -> None:
    before = ring("k1")
    after = ring("k1", "k2")
    index = before.blind_index(VALID, context=TENANT)
    assert len(index) == 64
    assert int(index, 16) >= 0
    assert after.index_key_id == "k1"
    assert after.blind_index(VALID, context=TENANT) == index
    assert before.blind_index(VALID, context=OTHER_TENANT) != index
    assert before.blind_index(INVALID_CHECK, context=TENANT) != index
    # Pinned index key: a ring whose first key differs still agrees when pinned to k1.
    assert ring("k2", "k1", index="k1").blind_index(VALID, context=TENANT) == index
    assert ring("k2", "k1").blind_index(VALID, context=TENANT) != index
    # Context and value are length-prefixed, so shifting characters between them changes it.
    assert before.blind_index("1" + VALID, context="13101") != before.blind_index(
        VALID, context="131011"
    )


def test_blind_index_is_not_a_plain_hash() -> None:
    keys = ring("k1")
    index = keys.blind_index(VALID, context=TENANT)
    assert index not in {sha256(VALID.encode()).hexdigest(), sha256(K1).hexdigest()}


def test_unknown_index_key() -> None:
    with pytest.raises(CryptoConfigError) as info:
        ring("k1", index="k9")
    assert info.value.code == "crypto.unknown_index_key"


# --- configuration -----------------------------------------------------------------------------


def test_from_config_env_string() -> None:
    keys = KeyRing.from_config(f" k1:{b64(K1)} , k2:{b64(K2)},", None, None)
    assert keys.key_ids == ("k1", "k2")
    assert keys.active_key_id == "k2"
    assert keys.index_key_id == "k1"
    assert ring("k1", "k2").decrypt(keys.encrypt("x", context="t"), context="t") == "x"


def test_from_config_urlsafe_base64_accepted() -> None:
    raw = bytes([0xFB, 0xFF] * 16)  # encodes with '+' and '/' in standard base64
    urlsafe = base64.urlsafe_b64encode(raw).decode()
    assert "-" in urlsafe or "_" in urlsafe
    keys = KeyRing.from_config(f"k1:{urlsafe}", None, None)
    assert keys.key_ids == ("k1",)


def test_from_config_key_file(tmp_path: Path) -> None:
    path = tmp_path / "keys.txt"
    path.write_text(
        f"# comment line\n\nk1 {b64(K1)}   # inline comment\n  k2\t{b64(K2)}\n", encoding="utf-8"
    )
    keys = KeyRing.from_config(None, path, None)
    assert keys.key_ids == ("k1", "k2")
    assert keys.active_key_id == "k2"
    keys = KeyRing.from_config(None, path, "k1")
    assert keys.active_key_id == "k1"


def test_from_config_file_then_env(tmp_path: Path) -> None:
    path = tmp_path / "keys.txt"
    path.write_text(f"k1 {b64(K1)}\n", encoding="utf-8")
    keys = KeyRing.from_config(f"k2:{b64(K2)},k1:{b64(K1)}", path, None)
    assert keys.key_ids == ("k1", "k2")
    with pytest.raises(CryptoConfigError) as info:
        KeyRing.from_config(f"k1:{b64(K2)}", path, None)
    assert info.value.code == "crypto.duplicate_key_id"


SECRET_LOOKING = b64(K3)


@pytest.mark.parametrize(
    ("keys", "active", "code"),
    [
        (None, None, "crypto.no_keys"),
        ("", None, "crypto.no_keys"),
        (" , ", None, "crypto.no_keys"),
        (f"k1:{SECRET_LOOKING[:-2]}", None, "crypto.key_encoding"),
        (f"k1:{SECRET_LOOKING[:-4]}", None, "crypto.key_length"),
        (f"k1:{b64(K3 + K3)}", None, "crypto.key_length"),
        (f"k1:{SECRET_LOOKING}!!", None, "crypto.key_encoding"),
        (SECRET_LOOKING, None, "crypto.key_syntax"),
        (f"k.1:{SECRET_LOOKING}", None, "crypto.key_id"),
        (f":{SECRET_LOOKING}", None, "crypto.key_id"),
        (f"k1:{SECRET_LOOKING}", "k2", "crypto.unknown_active_key"),
    ],
)
def test_config_errors_are_japanese_and_leak_nothing(
    keys: str | None, active: str | None, code: str
) -> None:
    with pytest.raises(CryptoConfigError) as info:
        KeyRing.from_config(keys, None, active)
    err = info.value
    assert err.code == code
    assert isinstance(err, ValueError)
    text = f"{err} {err!r} {err.args}"
    assert any("\u3040" <= ch <= "\u30ff" or "\u4e00" <= ch <= "\u9fff" for ch in str(err))
    for fragment in (SECRET_LOOKING, SECRET_LOOKING[:16], SECRET_LOOKING[-16:]):
        assert fragment not in text
    # And no chained exception carrying the raw value either.
    assert err.__cause__ is None
    assert err.__context__ is None or err.__suppress_context__


def test_key_file_errors(tmp_path: Path) -> None:
    path = tmp_path / "keys.txt"
    path.write_text(f"k1 {b64(K1)}\nk2 {SECRET_LOOKING[:-4]}\n", encoding="utf-8")
    with pytest.raises(CryptoConfigError) as info:
        KeyRing.from_config(None, path, None)
    assert info.value.code == "crypto.key_length"
    assert "2行目" in str(info.value)
    assert SECRET_LOOKING[:-4] not in str(info.value)

    path.write_text(f"k1 {SECRET_LOOKING} extra\n", encoding="utf-8")
    with pytest.raises(CryptoConfigError) as info:
        KeyRing.from_config(None, path, None)
    assert info.value.code == "crypto.key_syntax"
    assert SECRET_LOOKING not in str(info.value)

    with pytest.raises(CryptoConfigError) as info:
        KeyRing.from_config(None, tmp_path / "missing.txt", None)
    assert info.value.code == "crypto.key_file"


def test_direct_construction_errors() -> None:
    with pytest.raises(CryptoConfigError):
        KeyRing({})
    with pytest.raises(CryptoConfigError):
        KeyRing({"k1": b"short"})


def test_config_error_pickles() -> None:
    err = CryptoConfigError("crypto.no_keys", "暗号鍵が1つも設定されていません。")
    copy = pickle.loads(pickle.dumps(err))
    assert (type(copy), copy.code, copy.message) == (CryptoConfigError, err.code, err.message)


# --- key file generation -----------------------------------------------------------------------


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
def test_generate_key_file_mode_and_rotation(tmp_path: Path) -> None:
    path = tmp_path / "keys.txt"
    old_umask = os.umask(0o000)  # even a permissive umask must not loosen the file
    try:
        KeyRing.generate_key_file(path, "2025a")
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    first = KeyRing.from_config(None, path, None)
    assert first.key_ids == ("2025a",)
    token = first.encrypt(VALID, context=TENANT)

    path.chmod(0o644)
    KeyRing.generate_key_file(path, "2026a")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # tightened on append
    second = KeyRing.from_config(None, path, None)
    assert second.key_ids == ("2025a", "2026a")
    assert second.active_key_id == "2026a"
    assert second.decrypt(token, context=TENANT) == VALID
    assert second.needs_rotation(token)
    assert second.blind_index(VALID, context=TENANT) == first.blind_index(VALID, context=TENANT)

    with pytest.raises(CryptoConfigError) as info:
        KeyRing.generate_key_file(path, "2026a")
    assert info.value.code == "crypto.duplicate_key_id"
    with pytest.raises(CryptoConfigError):
        KeyRing.generate_key_file(path, "bad id")


def test_generate_key_file_appends_after_missing_newline(tmp_path: Path) -> None:
    path = tmp_path / "keys.txt"
    path.write_text(f"k1 {b64(K1)}", encoding="utf-8")  # no trailing newline
    KeyRing.generate_key_file(path, "k2")
    assert KeyRing.from_config(None, path, None).key_ids == ("k1", "k2")


def test_group_readable_key_file_warns(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    if os.name != "posix":
        pytest.skip("file modes are POSIX")
    path = tmp_path / "keys.txt"
    path.write_text(f"k1 {b64(K1)}\n", encoding="utf-8")
    path.chmod(0o640)
    with caplog.at_level(logging.WARNING, logger="kikan.platform.crypto"):
        KeyRing.from_config(None, path, None)
    assert "chmod 600" in caplog.text
    assert b64(K1) not in caplog.text


# --- MyNumber ----------------------------------------------------------------------------------


def test_my_number_never_shows_digits() -> None:
    number = MyNumber(VALID)
    renderings = [
        repr(number),
        str(number),
        f"{number}",
        f"{number!r}",
        f"{number:>40}",
        "%s" % number,  # noqa: UP031 - the old style is exactly what log calls use
        "%r" % number,  # noqa: UP031
        "{}".format(number),  # noqa: UP032
        repr([number]),
        repr({"n": number}),
    ]
    for text in renderings:
        assert VALID_DIGITS_FRAGMENT not in text
        assert "************" in text
    assert repr(number) == "MyNumber(************)"
    assert number.masked() == "************"
    assert number.reveal() == VALID


def test_my_number_value_semantics() -> None:
    a = MyNumber(VALID)
    b = MyNumber("９８３２０５６７３２１４")
    assert a == b
    assert hash(a) == hash(b)
    assert a != VALID
    assert len({a, b}) == 1
    with pytest.raises(AttributeError):
        a._digits = "000000000000"
    with pytest.raises(AttributeError):
        a.other = 1
    assert not hasattr(a, "__dict__")
    assert pickle.loads(pickle.dumps(a)) == a


def test_my_number_validation() -> None:
    with pytest.raises(IdentifierError) as info:
        MyNumber(INVALID_CHECK)
    assert info.value.code == "mynumber.check_digit"


# --- redaction ---------------------------------------------------------------------------------


def test_redact_valid_numbers_only() -> None:
    text = (
        f"個人番号 {VALID} / 注文番号 {INVALID_CHECK} / 13桁 {VALID}0 / 0{VALID} / "
        f"全角 ９８３２０５６７３２１４ / 区切り 9832-0567-3214 と 9832 0567 3214 / "
        f"混在区切り 9832-0567 3214 / 11桁 {VALID[:11]} / 英字隣接 ID{VALID}X"
    )
    redacted = redact_my_numbers(text)
    assert redacted == (
        f"個人番号 [個人番号] / 注文番号 {INVALID_CHECK} / 13桁 {VALID}0 / 0{VALID} / "
        f"全角 [個人番号] / 区切り [個人番号] と [個人番号] / "
        f"混在区切り 9832-0567 3214 / 11桁 {VALID[:11]} / 英字隣接 ID[個人番号]X"
    )


@given(st.text(alphabet="0123456789", min_size=11, max_size=11))
def test_redact_property(body: str) -> None:
    number = body + str(my_number_check_digit(body))
    assert redact_my_numbers(f"x{number}y") == "x[個人番号]y"
    wrong = body + str((int(number[-1]) + 1) % 10)
    assert redact_my_numbers(f"x{wrong}y") == f"x{wrong}y"
    assert redact_my_numbers(f"{number}7") == f"{number}7"


def _stream_logger(name: str) -> tuple[logging.Logger, logging.Handler, io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    logger = logging.getLogger(name)
    logger.handlers = [handler]
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    return logger, handler, stream


def _log_with_exception(logger: logging.Logger) -> None:
    logger.info("照会 %s 注文 %s", VALID, INVALID_CHECK)
    try:
        raise ValueError(f"bad input {VALID}")
    except ValueError:
        logger.exception("失敗 %s", "９８３２０５６７３２１４")
    logger.warning("extra を確認", extra={"subject": VALID})
    logger.info({"dict": VALID})  # non-string msg


def test_filter_on_handler_redacts_args_exceptions_and_extras() -> None:
    logger, handler, stream = _stream_logger("kikan.test.redaction.filter")
    handler.setFormatter(logging.Formatter("%(message)s %(subject)s", defaults={"subject": "-"}))
    handler.addFilter(MyNumberRedactingFilter())
    _log_with_exception(logger)
    output = stream.getvalue()
    assert VALID_DIGITS_FRAGMENT not in output
    assert "９８３２０５６７" not in output
    assert INVALID_CHECK in output  # ordinary numbers survive
    assert "Traceback" in output
    assert "bad input [個人番号]" in output
    assert "[個人番号]" in output


def test_install_log_redaction_on_logger_handlers_and_factory() -> None:
    logger, handler, stream = _stream_logger("kikan.test.redaction.install")
    install_log_redaction(logger)
    install_log_redaction(logger)  # idempotent
    assert sum(isinstance(f, MyNumberRedactingFilter) for f in handler.filters) == 1
    factory = logging.getLogRecordFactory()
    install_redacting_record_factory()
    assert logging.getLogRecordFactory() is factory  # not wrapped twice
    _log_with_exception(logger)
    assert VALID_DIGITS_FRAGMENT not in stream.getvalue()


def test_record_factory_covers_handlers_without_filter() -> None:
    # A non-propagating logger with its own handler and no filter (like uvicorn's access log).
    logger, _, stream = _stream_logger("kikan.test.redaction.factory")
    install_redacting_record_factory()
    logger.info("照会 %s", VALID)
    try:
        raise RuntimeError(VALID)
    except RuntimeError:
        logger.error("失敗", exc_info=True, stack_info=True)
    output = stream.getvalue()
    assert VALID_DIGITS_FRAGMENT not in output
    assert "Traceback" in output
    assert "Stack (most recent call last)" in output


def test_redaction_with_caplog(caplog: pytest.LogCaptureFixture) -> None:
    install_redacting_record_factory()
    logger = logging.getLogger("kikan.test.redaction.caplog")
    with caplog.at_level(logging.INFO):
        logger.info("個人番号 %s を照会", MyNumber(VALID).reveal())
        try:
            raise KeyError(VALID)
        except KeyError:
            logger.exception("見つかりません")
    assert VALID_DIGITS_FRAGMENT not in caplog.text
    for record in caplog.records:
        assert VALID_DIGITS_FRAGMENT not in record.getMessage()
        assert VALID_DIGITS_FRAGMENT not in (record.exc_text or "")


def test_broken_format_string_is_still_redacted() -> None:
    logger, handler, stream = _stream_logger("kikan.test.redaction.broken")
    handler.addFilter(MyNumberRedactingFilter())
    logger.info("二つ %s %s", VALID)  # noqa: PLE1206 - one argument short: logging would dump the args
    assert VALID_DIGITS_FRAGMENT not in stream.getvalue()
    assert "[個人番号]" in stream.getvalue()


def test_module_exports() -> None:
    for name in crypto.__all__:
        assert hasattr(crypto, name)


def _record(msg: object, args: object, exc: bool = False) -> logging.LogRecord:
    exc_info = None
    if exc:
        try:
            raise ValueError("no secret here")
        except ValueError as err:
            exc_info = (type(err), err, err.__traceback__)
    return logging.LogRecord("t", logging.INFO, __file__, 1, msg, args, exc_info)  # type: ignore[arg-type]


def test_records_without_my_numbers_are_untouched() -> None:
    args = ("order", INVALID_CHECK, 3)
    record = _record("%s %s %d", args, exc=True)
    exc_info = record.exc_info
    MyNumberRedactingFilter().filter(record)
    assert record.msg == "%s %s %d"
    assert record.args is args
    assert record.exc_info is exc_info
    assert record.exc_text is None


def test_argument_shape_kept_for_formatters_that_unpack_args() -> None:
    # Like uvicorn's access formatter, which unpacks record.args into five fields.
    class UnpackingFormatter(logging.Formatter):
        def format(self, record: logging.LogRecord) -> str:
            assert isinstance(record.args, tuple)
            client, method, path, version, status = record.args
            return f"{client} {method} {path} HTTP/{version} {status}"

    record = _record('%s - "%s %s HTTP/%s" %d', ("10.0.0.1", "GET", f"/p?n={VALID}", "1.1", 200))
    MyNumberRedactingFilter().filter(record)
    output = UnpackingFormatter().format(record)
    assert output == "10.0.0.1 GET /p?n=[個人番号] HTTP/1.1 200"


def test_number_assembled_across_arguments_or_as_int() -> None:
    split = _record("%s%s", (VALID[:6], VALID[6:]))
    MyNumberRedactingFilter().filter(split)
    assert (split.getMessage(), split.args) == ("[個人番号]", ())

    as_int = _record("番号 %d", (int(VALID),))
    MyNumberRedactingFilter().filter(as_int)
    assert as_int.getMessage() == "番号 [個人番号]"

    mapping = _record("%(n)s と %(m)s", ({"n": VALID, "m": 1},))
    MyNumberRedactingFilter().filter(mapping)
    assert mapping.getMessage() == "[個人番号] と 1"

    baked_in = _record(f"f-string {VALID} %s", ("x",))
    MyNumberRedactingFilter().filter(baked_in)
    assert baked_in.getMessage() == "f-string [個人番号] x"
    assert baked_in.args == ("x",)
