"""Settings, read once from the environment (``PINGAN_*``) or a ``.env`` file."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every knob of the service; names match DESIGN.md's contract with a ``PINGAN_`` prefix."""

    model_config = SettingsConfigDict(env_prefix="PINGAN_", env_file=".env", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///./pingan.db"

    wechat_token: SecretStr = SecretStr("")
    wechat_appid: str = ""
    wechat_secret: SecretStr = SecretStr("")
    wechat_aes_key: SecretStr | None = None
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

    dialog_timeout: int = Field(default=30 * 60, gt=0)

    # Outbound HTTP to WeChat.
    api_timeout: float = Field(default=10.0, gt=0)
    api_retries: int = Field(default=3, ge=0)
    api_backoff: float = Field(default=0.5, ge=0)

    # Seals the identity of anonymous reporters (Fernet); keep it secret and never change it
    # casually: sealed identities made with another key can no longer be reached.
    seal_key: SecretStr = SecretStr("")
    # Template message for tip status changes when the 48-hour window is closed (optional).
    tip_template_id: str = ""

    log_level: str = "INFO"
    # Salt for hashing openids in logs, so log lines cannot be joined to raw openids.
    log_salt: SecretStr = SecretStr("pingan")

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

    @property
    def aes_key(self) -> str | None:
        return self.wechat_aes_key.get_secret_value() if self.wechat_aes_key else None
