"""Property tests of URL signing: any change to the path, the expiry or the signature is
refused, and the expiry is honoured to the second."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from shutterbox.services.delivery.media_urls import MediaUrls

paths = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-./", min_size=1, max_size=60)
keys = st.binary(min_size=16, max_size=64)
now = 1_800_000_000.0


def _urls(key: bytes, *old: bytes) -> MediaUrls:
    return MediaUrls(origin_base="", cdn_base="", keys=(key, *old), signed_ttl=3600)


def _split(signed: str) -> tuple[str, int, str]:
    path, query = signed.split("?", 1)
    fields = dict(part.split("=", 1) for part in query.split("&"))
    return path, int(fields["expires"]), fields["signature"]


@given(key=keys, path=paths)
def test_a_fresh_link_verifies(key: bytes, path: str):
    urls = _urls(key)
    signed_path, expires, signature = _split(urls.signed("/media/" + path, now=now))
    assert urls.verify(signed_path, expires, signature, now=now)
    assert now + 3600 <= expires <= now + 3600 + 900


@given(key=keys, path=paths, other=paths)
def test_another_path_is_refused(key: bytes, path: str, other: str):
    urls = _urls(key)
    _, expires, signature = _split(urls.signed("/media/" + path, now=now))
    assert urls.verify("/media/" + other, expires, signature, now=now) == (other == path)


@given(key=keys, path=paths, shift=st.integers(min_value=-(10**6), max_value=10**6))
def test_another_expiry_is_refused(key: bytes, path: str, shift: int):
    urls = _urls(key)
    signed_path, expires, signature = _split(urls.signed("/media/" + path, now=now))
    assert urls.verify(signed_path, expires + shift, signature, now=now) == (shift == 0)


@given(
    key=keys,
    path=paths,
    position=st.integers(min_value=0, max_value=63),
    replacement=st.sampled_from("0123456789abcdef"),
)
def test_another_signature_is_refused(key: bytes, path: str, position: int, replacement: str):
    urls = _urls(key)
    signed_path, expires, signature = _split(urls.signed("/media/" + path, now=now))
    forged = signature[:position] + replacement + signature[position + 1 :]
    assert urls.verify(signed_path, expires, forged, now=now) == (forged == signature)


@given(key=keys, path=paths, other_key=keys)
def test_a_key_not_in_use_is_refused(key: bytes, path: str, other_key: bytes):
    signed_path, expires, signature = _split(_urls(other_key).signed("/media/" + path, now=now))
    assert _urls(key).verify(signed_path, expires, signature, now=now) == (key == other_key)
    assert _urls(key, other_key).verify(signed_path, expires, signature, now=now)


@given(key=keys, path=paths)
def test_expiry_is_honoured_to_the_second(key: bytes, path: str):
    urls = _urls(key)
    signed_path, expires, signature = _split(urls.signed("/media/" + path, now=now))
    assert urls.verify(signed_path, expires, signature, now=expires - 1)
    assert urls.verify(signed_path, expires, signature, now=expires - 0.001)
    assert not urls.verify(signed_path, expires, signature, now=expires)
    assert not urls.verify(signed_path, expires, signature, now=expires + 1)
