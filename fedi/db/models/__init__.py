"""The data model, one module per noun; importing this package registers every table."""

from fedi.db.models.account import BrowserSession, Invite, LoginFailure
from fedi.db.models.actor import Actor, ActorType
from fedi.db.models.base import Base, UTCDateTime, utcnow
from fedi.db.models.content import Activity, ActivityState, ContentObject
from fedi.db.models.delivery import Delivery, DeliveryState
from fedi.db.models.experience import Experience, ExperienceCode
from fedi.db.models.federation_allowlist import AllowedDomain
from fedi.db.models.federation_mode import FederationMode
from fedi.db.models.follow import Follow, FollowState
from fedi.db.models.forum import Forum
from fedi.db.models.instance import InstanceIdentity
from fedi.db.models.instance_settings import InstanceSettings
from fedi.db.models.interest import InterestMessage
from fedi.db.models.media import MediaFile
from fedi.db.models.member import ApiToken, Member, Role
from fedi.db.models.notification import EmailMessage, Notification, Report
from fedi.db.models.object_attachment import ObjectAttachment
from fedi.db.models.object_emoji import ObjectEmoji
from fedi.db.models.object_like import ObjectLike
from fedi.db.models.object_mention import ObjectMention
from fedi.db.models.object_tag import ObjectTag
from fedi.db.models.offer import Offer, OfferChange, OfferCode
from fedi.db.models.peer import BlockSeverity, DomainBlock, Peer
from fedi.db.models.profile import ExpertProfile, Profile
from fedi.db.models.question import ExpertQuestion
from fedi.db.models.saved_search import SavedSearch
from fedi.db.models.search import SearchCode, SearchDocument
from fedi.db.models.thread import Thread, ThreadReply
from fedi.db.models.worker import WorkerProcess

__all__ = [
    "Activity",
    "ActivityState",
    "Actor",
    "ActorType",
    "AllowedDomain",
    "ApiToken",
    "Base",
    "BlockSeverity",
    "BrowserSession",
    "ContentObject",
    "Delivery",
    "DeliveryState",
    "DomainBlock",
    "EmailMessage",
    "Experience",
    "ExperienceCode",
    "ExpertProfile",
    "ExpertQuestion",
    "FederationMode",
    "Follow",
    "FollowState",
    "Forum",
    "InstanceIdentity",
    "InstanceSettings",
    "InterestMessage",
    "Invite",
    "LoginFailure",
    "MediaFile",
    "Member",
    "Notification",
    "ObjectAttachment",
    "ObjectEmoji",
    "ObjectLike",
    "ObjectMention",
    "ObjectTag",
    "Offer",
    "OfferChange",
    "OfferCode",
    "Peer",
    "Profile",
    "Report",
    "Role",
    "SavedSearch",
    "SearchCode",
    "SearchDocument",
    "Thread",
    "ThreadReply",
    "UTCDateTime",
    "WorkerProcess",
    "utcnow",
]
