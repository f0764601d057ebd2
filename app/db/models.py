"""Import every model so Base.metadata is complete (Alembic and the drift test use this)."""

from app.announcements.models import Announcement  # noqa: F401
from app.audit.models import AuditEntry  # noqa: F401
from app.auth.models import KnownLoginAddress, LoginThrottle, RefreshToken  # noqa: F401
from app.auth.sms_models import SmsCode  # noqa: F401 - issue 18
from app.auth.wechat_models import WechatBinding, WechatSubscription  # noqa: F401 - issue 18
from app.bookings.models import Booking, BookingEvent, BookingHold, BookingService, BookingSlot  # noqa: F401
from app.clients.models import ApiClient  # noqa: F401
from app.core.idempotency_models import IdempotencyRecord  # noqa: F401, E402  (issue 18)
from app.db.base import Base  # noqa: F401
from app.deliberation.models import (  # noqa: F401
    Budget,
    DeliberationPhoto,
    DeliberationSetting,
    MicroProject,
    ProjectFollower,
    ProjectMilestone,
    Proposal,
    ProposalComment,
    ProposalEvent,
    ProposalSupport,
    Vote,
    VoteElector,
    VoteOption,
)
from app.groups.models import Activity, ActivitySignup, Group, GroupNotice, Membership  # noqa: F401, E402
from app.notifications.models import Notification  # noqa: F401
from app.notifications.provider_models import ProviderMessage  # noqa: F401 - issue 18
from app.notifications.webhooks_models import WebhookAttempt, WebhookDelivery, WebhookSubscription  # noqa: F401
from app.org.models import Category, Department, Grid  # noqa: F401
from app.points.models import (  # noqa: F401, E402
    PactAward,
    PactItem,
    PointAccount,
    PointEntry,
    PointRule,
    Redemption,
    Reward,
    RewardClaim,
)
from app.privacy.models import PrivacyConsent  # noqa: F401
from app.reports.models import (  # noqa: F401
    Report,
    ReportCounter,
    ReportEvent,
    ReportFollower,
    ReportPhoto,
    ReportRating,
)
from app.stats.models import report_rollup_histograms, report_rollups  # noqa: F401, E402  (issue 20)
from app.uploads.models import Upload  # noqa: F401
from app.users.models import User, UserGrid  # noqa: F401
