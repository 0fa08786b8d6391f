"""Repair issues: capture impossible, or a capture that sees too little."""

from __future__ import annotations

import sys

from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir

from .const import DOMAIN

# Probe error codes that need the user's hand; anything else is retried quietly.
REPAIRABLE_ERRORS = (
    "permission_denied",
    "interface_not_found",
    "interface_down",
    "bad_file",
    "probe_offline",  # a remote probe's status went offline
)
ISSUE_LIMITED_VISIBILITY = "limited_visibility"


def issue_id(kind: str, entry_id: str) -> str:
    return f"{kind}_{entry_id}"


def raise_capture_issue(
    hass: HomeAssistant, entry_id: str, code: str, source: str, message: str
) -> None:
    """One issue per entry for the current capture error; older ones go away."""
    for other in REPAIRABLE_ERRORS:
        if other != code:
            ir.async_delete_issue(hass, DOMAIN, issue_id(other, entry_id))
    ir.async_create_issue(
        hass,
        DOMAIN,
        issue_id(code, entry_id),
        is_fixable=False,
        is_persistent=False,
        severity=ir.IssueSeverity.ERROR,
        translation_key=code,
        translation_placeholders={
            "source": source,
            "message": message,
            "python": sys.executable,
        },
    )


def clear_capture_issues(hass: HomeAssistant, entry_id: str) -> None:
    for code in REPAIRABLE_ERRORS:
        ir.async_delete_issue(hass, DOMAIN, issue_id(code, entry_id))


def set_visibility_issue(hass: HomeAssistant, entry_id: str, source: str, limited: bool) -> None:
    key = issue_id(ISSUE_LIMITED_VISIBILITY, entry_id)
    if not limited:
        ir.async_delete_issue(hass, DOMAIN, key)
        return
    ir.async_create_issue(
        hass,
        DOMAIN,
        key,
        is_fixable=False,
        severity=ir.IssueSeverity.WARNING,
        translation_key=ISSUE_LIMITED_VISIBILITY,
        translation_placeholders={"source": source},
    )


ISSUE_STATE_REPAIRED = "state_repaired"
ISSUE_STATE_NOT_SAVED = "state_not_saved"


def raise_state_issue(
    hass: HomeAssistant, entry_id: str, kind: str, what: str, message: str, backup: str = "-"
) -> None:
    """Stored state could not be read (``state_repaired``) or saved (``state_not_saved``):
    said once per entry, kind and file, until Home Assistant restarts."""
    ir.async_create_issue(
        hass,
        DOMAIN,
        f"{kind}_{entry_id}_{what.rsplit('/', 1)[-1]}",
        is_fixable=False,
        is_persistent=False,
        severity=ir.IssueSeverity.WARNING,
        translation_key=kind,
        translation_placeholders={"what": what, "message": message[:300], "backup": backup},
    )
