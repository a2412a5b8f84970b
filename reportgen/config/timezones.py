"""IANA timezone names in configs: checked with a did-you-mean, shared by every config block."""

from __future__ import annotations

from reportgen.config.addresses import Invalid


def check_timezone(value: str) -> str:
    import difflib
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        close = difflib.get_close_matches(value, sorted(available_timezones()), n=1)
        hint = f" — did you mean '{close[0]}'" if close else ""
        raise Invalid(
            f"unknown IANA timezone '{value}'{hint}",
            fix="use an IANA name such as 'UTC', 'Europe/Dublin' or 'America/Los_Angeles' "
            '(list them: python -c "import zoneinfo; print(sorted(zoneinfo.available_timezones()))")',
        ) from None
    return value
