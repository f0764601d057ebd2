"""Every notification type, with its title and body in Chinese and English.

A notification stores its type and params; the words are rendered when it is read, in the reader's language
(`Accept-Language: en`), so a changed wording applies to old notifications too. Templates use `str.format`
fields from the params; a missing param renders as an empty string rather than failing a read.

Domains add their types here, in one block per domain (named `<domain>.<event>`).
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


@dataclass(frozen=True)
class Template:
    zh_title: str
    zh_body: str
    en_title: str
    en_body: str


TEMPLATES: dict[str, Template] = {
    # ---- reports ------------------------------------------------------------------------------------------
    "report.accepted": Template("诉求已受理", "您的诉求「{title}」已受理。",
                                "Report accepted", "Your report \"{title}\" was accepted."),
    "report.rejected": Template("诉求不予受理", "您的诉求「{title}」不予受理：{note}",
                                "Report not accepted", "Your report \"{title}\" was not accepted: {note}"),
    "report.dispatched": Template("诉求已派单", "您的诉求「{title}」已派给{handler}处理。",
                                  "Report dispatched", "Your report \"{title}\" was sent to {handler}."),
    "report.assigned": Template("新派单", "诉求「{title}」({number}) 已派给您处理，请于{resolve_by}前办结。",
                                "New report assigned", "Report \"{title}\" ({number}) is yours to handle by "
                                "{resolve_by}."),
    "report.returned": Template("诉求被退回", "诉求「{title}」({number}) 被退回，需重新派单：{note}",
                                "Report returned", "Report \"{title}\" ({number}) was returned and needs "
                                "dispatching again: {note}"),
    "report.started": Template("诉求处理中", "您的诉求「{title}」已开始处理。",
                               "Report in progress", "Work has started on your report \"{title}\"."),
    "report.resolved": Template("诉求已办结", "您的诉求「{title}」已办结，请评价：{note}",
                                "Report resolved", "Your report \"{title}\" was resolved; please rate it: {note}"),
    "report.reopened": Template("诉求重办", "诉求「{title}」({number}) 因差评或督办需重新办理。",
                                "Report reopened", "Report \"{title}\" ({number}) must be handled again."),
    "report.closed": Template("诉求已关闭", "您的诉求「{title}」已关闭。",
                              "Report closed", "Your report \"{title}\" is closed."),
    "report.merged": Template("诉求已合并", "您的诉求「{title}」与另一诉求合并处理。",
                              "Report merged", "Your report \"{title}\" was merged into another report."),
    "report.withdrawn": Template("诉求已撤回", "诉求「{title}」({number}) 已由居民撤回。",
                                 "Report withdrawn", "Report \"{title}\" ({number}) was withdrawn."),
    "report.escalated": Template("诉求上报", "诉求「{title}」({number}) 已上报至您所在层级。",
                                 "Report escalated", "Report \"{title}\" ({number}) was escalated to you."),
    "report.supervised": Template("督办提醒", "诉求「{title}」({number}) 被督办：{note}",
                                  "Supervision", "Report \"{title}\" ({number}) is under supervision: {note}"),
    "report.extension_requested": Template("延期申请", "诉求「{title}」({number}) 申请延期至{resolve_by}。",
                                           "Extension requested", "An extension to {resolve_by} was requested "
                                           "for report \"{title}\" ({number})."),
    "report.extended": Template("延期已批准", "诉求「{title}」({number}) 办结时限延至{resolve_by}。",
                                "Deadline extended", "Report \"{title}\" ({number}) is now due {resolve_by}."),
    "report.overdue": Template("诉求超期", "诉求「{title}」({number}) 已超过办理时限。",
                               "Report overdue", "Report \"{title}\" ({number}) is past its deadline."),
    "report.replied": Template("诉求有新进展", "您的诉求「{title}」有新的回复：{note}",
                               "New reply on your report", "Your report \"{title}\" has a new reply: {note}"),
    # ---- deliberation (proposals, votes, projects) and announcements ---------------------------------------
    "proposal.on_agenda": Template("议题已列入议程", "议题「{title}」已列入议事议程。",
                                   "Proposal on the agenda", "The proposal \"{title}\" is on the agenda."),
    "proposal.declined": Template("议题不予立项", "议题「{title}」不予立项：{note}",
                                  "Proposal declined", "The proposal \"{title}\" was declined: {note}"),
    "proposal.withdrawn": Template("议题已撤回", "您附议的议题「{title}」已由提议人撤回。",
                                   "Proposal withdrawn", "The proposal \"{title}\" you support was withdrawn."),
    "proposal.in_notice": Template("方案公示", "议题「{title}」的方案正在公示，至{notice_ends_at}止，欢迎留言。",
                                   "Plan on public notice", "The plan for \"{title}\" is on public notice until "
                                   "{notice_ends_at}; comments welcome."),
    "proposal.comment_hidden": Template("您的留言已被隐藏", "您在议题「{title}」下的留言已被隐藏：{note}",
                                        "Your comment was hidden", "Your comment on \"{title}\" was hidden: {note}"),
    "vote.opened": Template("居民表决开始", "议题「{title}」开始表决，投票截止{closes_at}。",
                            "Voting opened", "Voting on \"{title}\" is open until {closes_at}."),
    "vote.result": Template("表决结果公布", "议题「{title}」表决结果：{outcome}（投票率 {turnout}/{electorate}）。",
                            "Vote result", "Result of the vote on \"{title}\": {outcome} (turnout {turnout} of "
                            "{electorate})."),
    "project.created": Template("民生微实事立项", "议题「{title}」已通过并立项，预算{cost}元。",
                                "Project adopted", "\"{title}\" was adopted as a project with a budget of "
                                "{cost} yuan."),
    "project.milestone": Template("项目新进展", "民生微实事「{title}」有新进展：{note}",
                                  "Project progress", "New progress on the project \"{title}\": {note}"),
    "announcement.published": Template("新公告", "{title}", "New announcement", "{title}"),
    # ---- bookings -----------------------------------------------------------------------------------------
    "booking.confirmed": Template("预约成功", "您已预约「{title}」，时间{starts_at}。",
                                  "Booking confirmed", "You booked \"{title}\" at {starts_at}."),
    "booking.waitlisted": Template("已加入候补", "「{title}」{starts_at}的名额已满，您已加入候补，有空位时将通知您。",
                                   "On the waitlist", "\"{title}\" at {starts_at} is full; you are on the "
                                   "waitlist and will be told when a place frees up."),
    "booking.cancelled": Template("预约已取消", "您已取消「{title}」{starts_at}的预约。",
                                  "Booking cancelled", "Your booking of \"{title}\" at {starts_at} is cancelled."),
    "booking.slot_cancelled": Template("预约时段取消", "「{title}」{starts_at}的时段已取消：{reason}",
                                       "Slot cancelled", "\"{title}\" at {starts_at} was cancelled: {reason}"),
    "booking.promoted": Template("候补成功", "「{title}」{starts_at}有空位了，您的候补已转为正式预约。",
                                 "Place from the waitlist", "A place of \"{title}\" at {starts_at} freed up: "
                                 "it is yours now."),
    "booking.reminder": Template("预约提醒", "提醒：您预约的「{title}」将于{starts_at}开始，地点：{place}。",
                                 "Booking reminder", "Reminder: \"{title}\" starts at {starts_at}, at {place}."),
    "booking.errand_new": Template("新代办", "居民申请代办「{title}」：{note}",
                                   "New errand", "A resident asks for the errand \"{title}\": {note}"),
    "booking.errand_received": Template("代办已受理", "您的代办「{title}」已由网格员受理。",
                                        "Errand taken", "Your errand \"{title}\" was taken by your grid worker."),
    "booking.errand_processing": Template("代办办理中", "您的代办「{title}」正在办理。",
                                          "Errand in progress", "Your errand \"{title}\" is being run."),
    "booking.errand_done": Template("代办已办结", "您的代办「{title}」已办结：{note}",
                                    "Errand done", "Your errand \"{title}\" is done: {note}"),
    "booking.errand_cannot_do": Template("代办无法办理", "您的代办「{title}」无法办理：{note}",
                                         "Errand cannot be done", "Your errand \"{title}\" cannot be done: {note}"),
    "booking.errand_note": Template("代办有新进展", "您的代办「{title}」：{note}",
                                    "Errand update", "Your errand \"{title}\": {note}"),
    "booking.errand_cancelled": Template("代办已撤回", "居民撤回了代办「{title}」。",
                                         "Errand withdrawn", "The resident withdrew the errand \"{title}\"."),
    # ---- groups and activities (issue 16) ------------------------------------------------------------------
    "group.approved": Template("社群申请已通过", "您发起的社群「{group}」已通过审核，您是负责人。",
                               "Group approved", "The group \"{group}\" you proposed was approved; you lead it."),
    "group.declined": Template("社群申请未通过", "您发起的社群「{group}」未通过：{reason}",
                               "Group declined", "The group \"{group}\" you proposed was declined: {reason}"),
    "group.application": Template("新的入群申请", "有居民申请加入「{group}」，请审核。",
                                  "New application", "A resident applied to join \"{group}\"."),
    "group.application_approved": Template("入群申请已通过", "您已加入「{group}」。",
                                           "Application approved", "You are now a member of \"{group}\"."),
    "group.application_declined": Template("入群申请未通过", "您加入「{group}」的申请未通过：{reason}",
                                           "Application declined", "Your application to \"{group}\" was "
                                           "declined: {reason}"),
    "group.invited": Template("入群邀请", "您被邀请加入「{group}」。",
                              "Invitation", "You are invited to join \"{group}\"."),
    "group.member_removed": Template("您已被移出社群", "您已被移出「{group}」：{reason}",
                                     "Removed from a group", "You were removed from \"{group}\": {reason}"),
    "group.leader_added": Template("您成为社群负责人", "您已成为「{group}」的负责人。",
                                   "You lead a group", "You are now a leader of \"{group}\"."),
    "group.notice": Template("社群公告", "「{group}」发布公告：{title}",
                             "Group notice", "\"{group}\" posted a notice: {title}"),
    "activity.cancelled": Template("活动取消", "您报名的活动「{title}」已取消：{reason}",
                                   "Activity cancelled", "The activity \"{title}\" you signed up for was "
                                   "cancelled: {reason}"),
    # ---- points (issue 16) ---------------------------------------------------------------------------------
    "points.credited": Template("积分到账", "{reason} 获得 {points} 积分，当前余额 {balance}。",
                                "Points credited", "{points} points for {reason}; balance {balance}."),
    "points.expired": Template("积分过期", "{cutoff}前获得的 {points} 积分已过期，当前余额 {balance}。",
                               "Points expired", "{points} points earned before {cutoff} expired; your balance is "
                               "{balance}."),
    "points.adjusted": Template("积分调整", "您的积分调整 {points}：{reason}，当前余额 {balance}。",
                                "Points adjusted", "Your points were adjusted by {points}: {reason}; balance "
                                "{balance}."),
    "points.redemption_fulfilled": Template("兑换已完成", "您兑换的「{reward}」已发放。",
                                            "Redemption fulfilled", "Your \"{reward}\" was handed over."),
    "points.redemption_cancelled": Template("兑换已取消", "您兑换的「{reward}」已取消，{points} 积分已退还。{note}",
                                            "Redemption cancelled", "Your \"{reward}\" was cancelled and "
                                            "{points} points refunded. {note}"),
}


# Closed, for clients generated from openapi.json: every type that can appear in an inbox.
NotificationType = StrEnum(  # type: ignore[misc]  # built from the catalog, so it cannot drift from it
    "NotificationType", {k.replace(".", "_"): k for k in TEMPLATES})


class _Lenient(string.Formatter):
    def get_value(self, key: Any, args: Any, kwargs: Any) -> Any:
        value = kwargs.get(key, "") if isinstance(key, str) else ""
        return "" if value is None else value


_FORMATTER = _Lenient()


def render(type_: str, params: dict[str, Any], english: bool) -> tuple[str, str]:
    """(title, body) of a notification in the reader's language."""
    t = TEMPLATES.get(type_)
    if t is None:  # a type retired from the catalog: still readable
        return type_, ""
    title, body = (t.en_title, t.en_body) if english else (t.zh_title, t.zh_body)
    return _FORMATTER.format(title, **params), _FORMATTER.format(body, **params)
