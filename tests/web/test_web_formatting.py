"""Turning stored text into safe markup and readable times."""

from datetime import UTC, datetime, timedelta

from inbox.web.formatting import format_age, format_list_time, format_size, initials, linkify


def test_linkify_escapes_everything_the_sender_wrote() -> None:
    html = str(linkify('<img src=x onerror=alert(1)> & "quotes"'))
    assert html == "&lt;img src=x onerror=alert(1)&gt; &amp; &#34;quotes&#34;"


def test_linkify_links_http_urls_in_a_new_tab_without_referrer() -> None:
    html = str(linkify("see https://example.com/a?b=1&c=2."))
    assert html.startswith('see <a href="https://example.com/a?b=1&amp;c=2" ')
    assert 'rel="noopener noreferrer nofollow"' in html
    assert 'target="_blank"' in html
    # The sentence's full stop is not part of the link.
    assert html.endswith("</a>.")


def test_linkify_leaves_other_schemes_as_text() -> None:
    html = str(linkify("javascript:alert(1) data:text/html,<b>x</b>"))
    assert "<a" not in html
    assert "&lt;b&gt;" in html


def test_linkify_cannot_break_out_of_the_href() -> None:
    html = str(linkify('https://evil.test/"onmouseover=alert(1)'))
    assert 'onmouseover=alert(1)"' not in html
    assert html.count('"') == 6  # the href, rel and target values only


def test_linkify_adds_a_scheme_to_www_hosts_and_keeps_balanced_parentheses() -> None:
    html = str(linkify("(www.example.com/wiki/Foo_(bar))"))
    assert 'href="https://www.example.com/wiki/Foo_(bar)"' in html
    assert html.endswith("</a>)")


def test_times_and_sizes_read_naturally() -> None:
    now = datetime(2025, 3, 12, 15, 0, tzinfo=UTC)
    assert format_list_time(now - timedelta(hours=2), now) == "13:00"
    assert format_list_time(now - timedelta(days=3), now) == "9 Mar"
    assert format_list_time(now - timedelta(days=400), now) == "6 Feb 2024"
    assert format_age(now - timedelta(hours=2), now) == "2 h ago"
    assert format_age((now - timedelta(days=3)).isoformat(), now) == "3 days ago"
    assert format_age(None, now) == "unknown time"
    assert format_size(2048) == "2.0 KB"
    assert initials("maria  lopez") == "ML"
    assert initials("") == "?"


def test_profile_sources_are_named_for_people() -> None:
    from inbox.web.presenters import describe_source

    assert describe_source("twilio.webhook") == "WhatsApp message"
    assert describe_source("messenger.user_profile") == "Messenger profile"
    assert describe_source("telegram.getChat") == "Telegram profile"
    assert describe_source("agent") == "typed by an agent"
    assert describe_source("somewhere.else") == "somewhere.else"
