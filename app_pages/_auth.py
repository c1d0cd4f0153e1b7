"""Optional sign-in for deployments on shared servers; ``app.py`` calls :func:`gate` once.

* **OIDC** — when ``.streamlit/secrets.toml`` has an ``[auth]`` section
  (``redirect_uri``, ``cookie_secret``, ``client_id``, ``client_secret``,
  ``server_metadata_url``, or one sub-section per provider), visitors sign in
  with ``st.login()`` and ``st.user`` tells who they are. Needs the
  ``Authlib`` package.
* **Password** — otherwise, when the environment variable ``GRIDMAP_PASSWORD``
  is set, a password form gates the app. The password is compared with
  :func:`hmac.compare_digest`, never logged, never kept in the session (only a
  digest saying "admitted under this password", so changing the variable
  signs everybody out). Each wrong attempt waits a second.
* Neither — the app is open (the default on a planner's own machine).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import time
from collections.abc import Mapping

import streamlit as st
from streamlit.errors import StreamlitSecretNotFoundError

from gridmap.i18n import default_lang, register, tr

__all__ = ["PASSWORD_ENV", "gate", "mode"]

PASSWORD_ENV = "GRIDMAP_PASSWORD"
_ADMITTED = "auth.admitted"
_WRONG_DELAY_S = 1.0

register({
    "auth.title": {"zh": "登录", "en": "Sign in"},
    "auth.password": {"zh": "密码", "en": "Password"},
    "auth.submit": {"zh": "登录", "en": "Sign in"},
    "auth.wrong": {"zh": "密码错误。", "en": "Wrong password."},
    "auth.intro": {
        "zh": "此网格一张网服务需要登录。",
        "en": "This gridmap server asks you to sign in.",
    },
    "auth.login": {"zh": "使用单位账号登录", "en": "Sign in with your organisation account"},
    "auth.logout": {"zh": "退出登录", "en": "Sign out"},
    "auth.as": {"zh": "已登录：{who}", "en": "Signed in as {who}"},
})


def _lang() -> str:
    lang = st.session_state.get("ws.lang")
    if lang in ("zh", "en"):
        return lang
    locale = getattr(st.context, "locale", None)
    return default_lang(locale if isinstance(locale, str) else None)


def _oidc_providers() -> list[str] | None:
    """None without an ``[auth]`` secrets section; else the named providers (may be empty)."""
    try:
        if "auth" not in st.secrets:
            return None
        section = st.secrets["auth"]
    except StreamlitSecretNotFoundError:  # no secrets.toml at all
        return None
    return [k for k, v in section.items() if isinstance(v, Mapping)]


def mode() -> str:
    """``oidc``, ``password`` or ``open``: how this deployment signs people in."""
    if _oidc_providers() is not None:
        return "oidc"
    return "password" if os.environ.get(PASSWORD_ENV) else "open"


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _oidc_gate(lang: str, providers: list[str]) -> None:
    if st.user.get("is_logged_in", False):
        with st.sidebar:
            who = st.user.get("name") or st.user.get("email") or ""
            if who:
                st.caption(tr("auth.as", lang, who=who))
            st.button(tr("auth.logout", lang), key="auth.logout", on_click=st.logout)
        return
    st.title(tr("auth.title", lang))
    st.write(tr("auth.intro", lang))
    if len(providers) > 1:
        for name in providers:
            st.button(f"{tr('auth.login', lang)} ({name})", key=f"auth.login.{name}",
                      on_click=st.login, args=(name,))
    else:
        st.button(tr("auth.login", lang), key="auth.login", on_click=st.login,
                  args=tuple(providers))
    st.stop()


def _password_gate(lang: str, expected: str) -> None:
    if hmac.compare_digest(st.session_state.get(_ADMITTED, ""), _digest(expected)):
        with st.sidebar:
            if st.button(tr("auth.logout", lang), key="auth.logout"):
                del st.session_state[_ADMITTED]
                st.rerun()
        return
    st.title(tr("auth.title", lang))
    st.write(tr("auth.intro", lang))
    with st.form("auth.form", clear_on_submit=True):
        given = st.text_input(tr("auth.password", lang), type="password", key="auth.password")
        submitted = st.form_submit_button(tr("auth.submit", lang))
    if submitted:
        if hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8")):
            st.session_state[_ADMITTED] = _digest(expected)
            st.rerun()
        time.sleep(_WRONG_DELAY_S)  # slows guessing; the attempt itself is not logged
        st.error(tr("auth.wrong", lang))
    st.stop()


def gate() -> None:
    """Admit the visitor, or show the sign-in and stop the script run.

    Call once in ``app.py``, before the sidebar and the navigation.
    """
    lang = _lang()
    providers = _oidc_providers()
    if providers is not None:
        _oidc_gate(lang, providers)
        return
    expected = os.environ.get(PASSWORD_ENV, "")
    if expected:
        _password_gate(lang, expected)
