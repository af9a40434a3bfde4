"""Each secret shape, property-based: generated secrets in generated text never survive.

Every test puts one generated secret between generated plain words and checks
that the secret part is gone and the words around it are still there.
"""

from __future__ import annotations

import string

from hypothesis import given, settings
from hypothesis import strategies as st

from core.redact import REDACTED, Redactor

REDACTOR = Redactor()
SETTINGS = settings(derandomize=True, max_examples=150, database=None, deadline=None)

# plain words: no @, no digits-colon, nothing shaped like a secret keyword
_WORD = st.text(alphabet="abcdfghjklmnquvwxyz", min_size=1, max_size=8).filter(
    lambda w: w not in {"pwd"}
)
_WORDS = st.lists(_WORD, max_size=4).map(" ".join)
_B64 = string.ascii_letters + string.digits + "+/"
_URLSAFE = string.ascii_letters + string.digits + "-_"
_PASSWORD = st.text(
    alphabet=string.ascii_letters + string.digits + "!#$%&*()-_+=[]{}<>?.~@",
    min_size=1,
    max_size=24,
)


def check(before: str, secret: str, after: str, *, redacted: str = REDACTED) -> None:
    """`secret` between plain words comes out as `redacted`, the words as they were."""
    assert REDACTOR.redact(f"{before} {secret} {after}") == f"{before} {redacted} {after}"


@SETTINGS
@given(
    _WORDS,
    st.integers(10_000, 999_999_999_999),
    st.text(alphabet=_URLSAFE, min_size=35, max_size=46),
    _WORDS,
)
def test_telegram_bot_tokens(before: str, bot_id: int, tail: str, after: str) -> None:
    token = f"{bot_id}:{tail}"
    check(before, f"https://api.telegram.org/bot{token}/getMe", after,
          redacted=f"https://api.telegram.org/bot{REDACTED}/getMe")  # fmt: skip
    check(before, token, after)


@SETTINGS
@given(_WORDS, st.text(alphabet=_URLSAFE + ".~+/=", min_size=1, max_size=60), _WORDS)
def test_bearer_headers(before: str, credential: str, after: str) -> None:
    for header in ("Authorization: Bearer", "authorization=bearer", "X-Auth: Bearer"):
        check(before, f"{header} {credential}", after, redacted=f"{header} {REDACTED}")


@SETTINGS
@given(
    _WORDS,
    st.sampled_from(["Basic ", "Token ", "Digest ", ""]),
    st.text(alphabet=_B64 + "=", min_size=12, max_size=40),
    _WORDS,
)
def test_other_authorization_headers(before: str, scheme: str, credential: str, after: str) -> None:
    check(before, f"Authorization: {scheme}{credential}", after,
          redacted=f"Authorization: {scheme}{REDACTED}")  # fmt: skip


@SETTINGS
@given(
    _WORDS,
    st.sampled_from(["password", "PASSWORD", "passwd", "pwd", "secret", "token", "api_key"]),
    st.sampled_from(["=", ": ", " = ", ":"]),
    st.text(
        alphabet=string.ascii_letters + string.digits + "!#$%&*()-_+[]{}<>?.~@/",
        min_size=1,
        max_size=30,
    ),
    _WORDS,
)
def test_passwords_and_named_secrets(
    before: str, key: str, sep: str, value: str, after: str
) -> None:
    check(before, f"{key}{sep}{value}", after, redacted=f"{key}{sep}{REDACTED}")


@SETTINGS
@given(
    _WORDS,
    st.one_of(
        st.text(alphabet=_URLSAFE, min_size=20, max_size=48).map(lambda s: f"sk-{s}"),
        st.text(alphabet=_URLSAFE, min_size=20, max_size=64).map(lambda s: f"sk-proj-{s}"),
        st.text(alphabet=_URLSAFE, min_size=20, max_size=64).map(lambda s: f"nvapi-{s}"),
        st.text(alphabet=string.ascii_uppercase + string.digits, min_size=16, max_size=16).map(
            lambda s: f"AKIA{s}"
        ),
        st.text(alphabet=string.ascii_letters + string.digits, min_size=36, max_size=36).map(
            lambda s: f"ghp_{s}"
        ),
        st.text(alphabet=string.ascii_letters + string.digits, min_size=24, max_size=40).map(
            lambda s: f"xoxb-{s}"
        ),
    ),
    _WORDS,
)
def test_api_keys(before: str, key: str, after: str) -> None:
    check(before, key, after)
    check(before, f"key={key},", after, redacted=f"key={REDACTED},")


@SETTINGS
@given(
    _WORDS,
    st.sampled_from(["RSA ", "EC ", "OPENSSH ", "ENCRYPTED ", ""]),
    st.lists(st.text(alphabet=_B64, min_size=64, max_size=64), min_size=1, max_size=6),
    st.text(alphabet=_B64 + "=", min_size=1, max_size=63),
    _WORDS,
)
def test_pem_private_key_blocks(
    before: str, kind: str, body: list[str], last: str, after: str
) -> None:
    lines = [*body, last]
    block = "\n".join(
        [f"-----BEGIN {kind}PRIVATE KEY-----", *lines, f"-----END {kind}PRIVATE KEY-----"]
    )
    out = REDACTOR.redact(f"{before}\n{block}\n{after}")
    assert out == f"{before}\n{REDACTED}\n{after}"
    # cut at either end, as trimmed output is: nothing of the body survives
    head_cut = "\n".join([*lines, f"-----END {kind}PRIVATE KEY-----"])
    tail_cut = "\n".join([f"-----BEGIN {kind}PRIVATE KEY-----", *body[:1]])
    assert REDACTOR.redact(f"{before}\n{tail_cut}") == f"{before}\n{REDACTED}"
    out = REDACTOR.redact(f"{before}\n{head_cut}")
    # a one-word line just before the body may go with it; nothing after it stays
    assert out.endswith(REDACTED), out
    assert before.startswith(out.removesuffix(REDACTED).rstrip("\n")), out


@SETTINGS
@given(
    _WORDS,
    st.sampled_from(["postgresql", "postgresql+asyncpg", "mysql", "redis", "amqp", "mongodb+srv"]),
    st.text(alphabet=string.ascii_letters + string.digits + "_.-", min_size=1, max_size=12),
    _PASSWORD,
    st.text(alphabet=string.ascii_lowercase + ".-", min_size=1, max_size=20),
    _WORDS,
)
def test_connection_strings(
    before: str, scheme: str, user: str, password: str, host: str, after: str
) -> None:
    url = f"{scheme}://{user}:{password}@{host}:5432/db"
    out = REDACTOR.redact(f"{before} {url} {after}")
    assert f":{password}@" not in out
    assert f"{scheme}://{user}:{REDACTED}@" in out
    assert out.startswith(before) and out.endswith(after)


@SETTINGS
@given(
    _WORDS,
    st.text(alphabet=string.ascii_letters + string.digits + "._%+-", min_size=1, max_size=20),
    st.lists(
        st.text(alphabet=string.ascii_lowercase + string.digits + "-", min_size=1, max_size=10),
        min_size=1,
        max_size=3,
    ),
    st.sampled_from(["com", "io", "org", "tw", "example"]),
    _WORDS,
)
def test_email_addresses(before: str, local: str, domain: list[str], tld: str, after: str) -> None:
    address = f"{local}@{'.'.join(domain)}.{tld}"
    out = REDACTOR.redact(f"{before} <{address}> {after}")
    assert out == f"{before} <{REDACTED}> {after}"


@SETTINGS
@given(st.lists(_WORD, min_size=1, max_size=12).map(" ".join))
def test_plain_words_pass_untouched(text: str) -> None:
    assert REDACTOR.redact(text) == text
