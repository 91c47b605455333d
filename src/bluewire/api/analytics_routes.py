"""`/api/v2/analytics/messages`: read, delivery and reply rates per campaign, tag, line,
service or time (bluewire's own)."""

from __future__ import annotations

from typing import Any

from ..domain.wire.analytics import AnalyticsQuery, MessageAnalytics
from ..services.analytics import Analytics
from .endpoint import Endpoint
from .http import Request, Router

MESSAGE_ANALYTICS = Endpoint(
    "GET", "/api/v2/analytics/messages", "Delivery, read and reply rates of outbound messages",
    "Analytics", params=AnalyticsQuery, response=MessageAnalytics,
    description="Counts what happened to the outbound messages created in the window, per "
                "recipient (a group message counts once per participant), in one bucket or "
                "one per line, campaign, tag, service, day or hour; with rates and "
                "nearest-rank percentiles of the time to deliver and to read.")


def register_analytics_routes(router: Router, analytics: Analytics) -> None:
    async def message_analytics(request: Request) -> dict[str, Any]:
        return await analytics.messages(request.account, request.args)

    router.endpoint(MESSAGE_ANALYTICS, message_analytics)
