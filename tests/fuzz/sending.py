"""How a case is sent: extra call metadata (legal keys, printable values, binary `-bin`
entries) and where the key goes, mostly right, sometimes broken (`Sending`)."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import strategies as st

from tests.fuzz.texts import weighted

# Legal keys (lower case), printable ASCII values, binary `-bin` entries.
_header_keys = st.one_of(
    st.from_regex(r"[a-z0-9][a-z0-9_.-]{0,40}", fullmatch=True).filter(
        lambda k: not k.endswith("-bin") and k != "authorization"
    ),
    st.sampled_from(
        [
            "x-request-id",
            "user-agent",
            "content-type",
            "te",
            "host",
            "x-forwarded-for",
            "cookie",
            "tenant",
            "x-tenant",
            "x-api-key",
            "grpc-foo",
            "authorization2",
        ]
    ),
)
_header_values = st.one_of(
    st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=200),
    st.sampled_from(["", " ", "default", "'; DROP TABLE rooms; --", "Bearer x", "%00", "\\"]),
)
_binary_entries = st.tuples(
    st.from_regex(r"[a-z0-9][a-z0-9_.-]{0,20}", fullmatch=True).map(lambda k: k + "-bin"),
    st.binary(max_size=300),
)
call_metadata = st.lists(
    st.one_of(st.tuples(_header_keys, _header_values), _binary_entries), max_size=6
)
# How the authorization header is sent: mostly right, sometimes broken.
_junk_authorization = st.one_of(
    st.sampled_from(
        ["", "Bearer", "Bearer ", "Basic abc", "bearer rk_nope", "Bearer rk_" + "a" * 32]
    ),
    st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=100),
)
auth_modes = weighted(
    (85, st.just(("valid", ""))),
    (
        15,
        st.tuples(st.sampled_from(["after", "before", "instead", "missing"]), _junk_authorization),
    ),
)


@dataclass(frozen=True)
class Sending:
    """How one case is sent: extra call metadata, and where the key goes ("valid": the
    key alone; "after"/"before": a junk authorization after or before it; "instead":
    only the junk; "missing": no authorization at all)."""

    extra: tuple[tuple[str, str | bytes], ...] = ()
    how: str = "valid"
    junk: str = ""


sendings = st.tuples(call_metadata, auth_modes).map(
    lambda drawn: Sending(tuple(drawn[0]), *drawn[1])
)
