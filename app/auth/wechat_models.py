"""WeChat identities bound to accounts (issue 18): one openid per mini-program (appid) per account."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, IdMixin, IdType, UTCDateTime


class WechatBinding(IdMixin, Base):
    __tablename__ = "wechat_bindings"
    __table_args__ = (
        UniqueConstraint("appid", "openid", name="uq_wechat_bindings_appid_openid"),
        UniqueConstraint("user_id", "appid", name="uq_wechat_bindings_user_id_appid"),
    )

    user_id: Mapped[int] = mapped_column(IdType, ForeignKey("users.id", ondelete="CASCADE"))
    appid: Mapped[str] = mapped_column(String(64))
    openid: Mapped[str] = mapped_column(String(128))
    unionid: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class WechatSubscription(Base):
    """Subscription messages (订阅消息) a user accepted in wx.requestSubscribeMessage: each acceptance allows ONE
    message of that notification type (WeChat's one-time subscription), counted down when one is queued."""

    __tablename__ = "wechat_subscriptions"
    __table_args__ = (CheckConstraint("remaining >= 0", name="remaining"),)

    user_id: Mapped[int] = mapped_column(IdType, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    appid: Mapped[str] = mapped_column(String(64), primary_key=True)
    notification_type: Mapped[str] = mapped_column(String(64), primary_key=True)
    template_id: Mapped[str] = mapped_column(String(128))
    remaining: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
