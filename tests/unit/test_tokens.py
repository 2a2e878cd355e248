from __future__ import annotations

from datetime import UTC, datetime

from iep_followup.tokens import (
    answer_token_parts,
    find_bounce_keys,
    find_keys,
    make_answer_token,
    make_bounce_key,
    make_message_id,
    make_reply_key,
    reply_to_address,
    request_id_of,
    verify_answer_token,
    verify_bounce_key,
    verify_reply_key,
)

SECRET = "a-secret-of-enough-length-for-tests"
EXPIRES = datetime(2027, 1, 20, tzinfo=UTC)


def test_key_is_lowercase_and_bound_to_request_owner_and_expiry() -> None:
    key = make_reply_key("secret", 42, 7, EXPIRES)
    assert key == key.lower() and key.startswith("r42-")
    assert verify_reply_key("secret", key, 42, 7, EXPIRES)
    assert verify_reply_key("secret", key.upper(), 42, 7, EXPIRES)
    assert not verify_reply_key("secret", key, 42, 8, EXPIRES)  # another owner
    assert not verify_reply_key("secret", key, 43, 7, EXPIRES)  # another request
    assert not verify_reply_key("secret", key, 42, 7, EXPIRES.replace(day=21))  # another expiry
    assert not verify_reply_key("other secret", key, 42, 7, EXPIRES)


def test_an_altered_key_does_not_verify() -> None:
    key = make_reply_key("secret", 42, 7, EXPIRES)
    altered = key[:-1] + ("a" if key[-1] != "a" else "b")
    assert request_id_of(altered) == 42
    assert not verify_reply_key("secret", altered, 42, 7, EXPIRES)


def test_keys_are_found_in_plus_addresses_and_message_ids() -> None:
    key = make_reply_key("secret", 5, 1, EXPIRES)
    address = reply_to_address("iep-replies@district.example.org", key)
    assert address == f"iep-replies+{key}@district.example.org"
    assert find_keys(f"Rosa <{address.upper()}>") == [key]
    assert find_keys(make_message_id(key, "9", "district.example.org")) == [key]
    assert find_keys("iep-replies@district.example.org") == []
    assert request_id_of("not-a-key") is None


def test_reply_address_replaces_an_existing_plus_part() -> None:
    assert reply_to_address("a+old@x.org", "r1-abc") == "a+r1-abc@x.org"


def test_a_bounce_key_verifies_only_for_its_message_and_recipient() -> None:
    key = make_bounce_key(SECRET, 42, "Tom@School.org")
    assert key.startswith("b-42-")
    assert verify_bounce_key(SECRET, key, 42, "tom@school.org")  # addresses ignore case
    assert not verify_bounce_key(SECRET, key, 43, "tom@school.org")
    assert not verify_bounce_key(SECRET, key, 42, "rosa@home.org")
    assert not verify_bounce_key("another-secret-of-enough-length", key, 42, "tom@school.org")


def test_bounce_keys_are_found_only_as_the_plus_part_of_an_address() -> None:
    key = make_bounce_key(SECRET, 7, "tom@school.org")
    assert find_bounce_keys(f"iep-replies+{key.upper()}@district.org, x@y.org") == [(key, 7)]
    assert find_bounce_keys(f"Subject mentions {key} in passing") == []
    reply_key = make_reply_key(SECRET, 7, 3, datetime(2027, 1, 1, tzinfo=UTC))
    assert find_bounce_keys(f"iep-replies+{reply_key}@district.org") == []
    assert find_keys(f"iep-replies+{key}@district.org") == []


def test_an_answer_token_is_bound_to_the_request_owner_expiry_and_item() -> None:
    key = make_reply_key(SECRET, 42, 7, EXPIRES)
    token = make_answer_token(SECRET, key, "A2")
    assert token.startswith("t42-a2-") and answer_token_parts(token) == (42, "A2")
    assert verify_answer_token(SECRET, token, 42, 7, EXPIRES)
    assert not verify_answer_token(SECRET, token, 42, 8, EXPIRES)  # another owner
    assert not verify_answer_token(SECRET, token, 43, 7, EXPIRES)  # another request
    assert not verify_answer_token(SECRET, token, 42, 7, EXPIRES.replace(day=21))
    assert not verify_answer_token("another secret of enough length", token, 42, 7, EXPIRES)
    other_item = token.replace("-a2-", "-a3-")
    assert answer_token_parts(other_item) == (42, "A3")
    assert not verify_answer_token(SECRET, other_item, 42, 7, EXPIRES)
    assert not verify_answer_token(
        SECRET, token[:-1] + ("a" if token[-1] != "a" else "b"), 42, 7, EXPIRES
    )


def test_an_answer_token_is_neither_a_reply_key_nor_a_bounce_key() -> None:
    token = make_answer_token(SECRET, make_reply_key(SECRET, 42, 7, EXPIRES), "A1")
    assert find_keys(token) == [] and request_id_of(token) is None
    assert answer_token_parts(make_reply_key(SECRET, 42, 7, EXPIRES)) is None
    assert answer_token_parts("t42-a1-short") is None
