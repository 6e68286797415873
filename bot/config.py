"""Settings, read once from the environment (``PINGAN_*``) or a ``.env`` file."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.keys import PUBLISHED, Keys, WeakKey


class Settings(BaseSettings):
    """Every knob of the service; names match DESIGN.md's contract with a ``PINGAN_`` prefix."""

    model_config = SettingsConfigDict(env_prefix="PINGAN_", env_file=".env", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///./pingan.db"

    wechat_token: SecretStr = SecretStr("")
    wechat_appid: str = ""
    wechat_secret: SecretStr = SecretStr("")
    wechat_aes_key: SecretStr | None = None
    # The account's message encryption setting, as the platform names it: plain (明文),
    # compatible (兼容) or safe (安全). Safe refuses plain calls, whose body the signature
    # does not cover. Unset: safe when an AES key is configured, plain otherwise.
    wechat_mode: Literal["plain", "compatible", "safe"] | None = None
    wechat_api_base: str = "https://api.weixin.qq.com"
    wecom_api_base: str = "https://qyapi.weixin.qq.com"

    host: str = "127.0.0.1"
    port: int = 8080

    # Webhook guards.
    wechat_max_skew: int = Field(default=300, ge=0)
    max_body_bytes: int = Field(default=64 * 1024, ge=1024)
    reply_budget: float = Field(default=4.0, gt=0)
    # A handler that runs longer than this is abandoned (its transaction rolled back). It also
    # bounds how long a delivery may stay "processing" before another process may take it over.
    handler_timeout: float = Field(default=30.0, gt=0)
    # Messages that arrive together are handled in one transaction (``bot.effects``), at most
    # this many; a batch running past the budget is rolled back and each message runs alone,
    # so that one slow handler holds the others up at most this long.
    batch_limit: int = Field(default=64, gt=0)
    batch_budget: float = Field(default=1.0, gt=0)

    dialog_timeout: int = Field(default=30 * 60, gt=0)
    # How often every process looks for deliveries a dead process left half-done.
    sweep_interval: float = Field(default=2.0, gt=0)
    # Replies kept for WeChat's retries (3 tries within about 15 s), then cleared.
    reply_retention: int = Field(default=300, gt=0)
    # Days the delivery ledger and finished pushes are kept (they say when somebody wrote to
    # or heard from the station), then deleted by the nightly purge (``pingan purge``).
    retention_days: int = Field(default=90, gt=0)
    # Messages (not events) a user may send per window; more are stored and answered politely.
    user_rate_limit: int = Field(default=30, gt=0)
    user_rate_window: float = Field(default=60.0, gt=0)

    # Minutes an officer alert waits for `收到 CODE` before it goes to the chief, then to
    # every officer: emergencies and red tips, and residents' hand-offs.
    alert_ack_minutes: int = Field(default=5, gt=0)
    handoff_ack_minutes: int = Field(default=30, gt=0)
    # Template message for an alert to an officer whose 48-hour window is closed (optional).
    alert_template_id: str = ""
    # The duty group's WeCom robot (the key= of its webhook URL): every alert and escalation
    # is posted there too. A secret: anyone holding it can post to the group.
    duty_robot_key: SecretStr = SecretStr("")

    # Pushes WeChat did not take: retried after base, 2·base, 4·base… up to cap, then dead.
    push_retry_base: float = Field(default=30.0, gt=0)
    push_retry_cap: float = Field(default=3600.0, gt=0)
    push_max_attempts: int = Field(default=8, ge=1)

    # Outbound HTTP to WeChat.
    api_timeout: float = Field(default=10.0, gt=0)
    api_retries: int = Field(default=3, ge=0)
    api_backoff: float = Field(default=0.5, ge=0)

    # Seals reporters' identities and keys the per-person hashes (see bot.keys): one key from
    # `pingan keys new`, or "new,old" while `pingan keys rotate` moves the store to a new one.
    seal_key: SecretStr = SecretStr("")
    # Template message for tip status changes when the 48-hour window is closed (optional).
    tip_template_id: str = ""
    # The map card an officer gets for a tip's place; {lat} {lng} {title} are filled in (GCJ-02,
    # as WeChat sends locations). Tencent Maps' marker link by default.
    map_url: str = (
        "https://apis.map.qq.com/uri/v1/marker?marker=coord:{lat},{lng};title:{title}"
        "&referer=pingan"
    )

    log_level: str = "INFO"
    # Salt for hashing openids in logs, so log lines cannot be joined to raw openids. Empty:
    # derived from the seal key (see effective_log_salt).
    log_salt: SecretStr = SecretStr("")

    def require_wechat(self) -> None:
        """Fail fast when the service is started without the credentials WeChat needs."""
        missing = [
            name
            for name, value in (
                ("PINGAN_WECHAT_TOKEN", self.wechat_token.get_secret_value()),
                ("PINGAN_WECHAT_APPID", self.wechat_appid),
                ("PINGAN_WECHAT_SECRET", self.wechat_secret.get_secret_value()),
                ("PINGAN_SEAL_KEY", self.seal_key.get_secret_value()),
            )
            if not value
        ]
        if missing:
            msg = f"missing required settings: {', '.join(missing)}"
            raise SystemExit(msg)
        try:
            self.seal_keys()
        except WeakKey as exc:
            raise SystemExit(str(exc)) from None
        salt = self.log_salt.get_secret_value()
        if salt and (salt in PUBLISHED or len(salt) < 16):
            # Old versions shipped "change-me" and a default of "pingan": public, so useless.
            msg = "PINGAN_LOG_SALT is short or published: leave it empty or set a random one"
            raise SystemExit(msg)

    def seal_keys(self) -> Keys:
        """The seal keys; raises WeakKey when the setting is missing or weak.

        (Not ``keys()``: ``dict(settings)`` would then treat the settings as a mapping.)
        """
        return Keys.from_setting(self.seal_key.get_secret_value())

    @property
    def effective_log_salt(self) -> str:
        """PINGAN_LOG_SALT, or one derived from the seal key so no deployment shares it."""
        return self.log_salt.get_secret_value() or self.seal_keys().log_salt

    @property
    def duty_robot(self) -> bool:
        return bool(self.duty_robot_key.get_secret_value())

    @property
    def mode(self) -> str:
        if self.wechat_mode is not None:
            return self.wechat_mode
        return "safe" if self.aes_key else "plain"

    @property
    def aes_key(self) -> str | None:
        return self.wechat_aes_key.get_secret_value() if self.wechat_aes_key else None
