"""The privacy notice (隐私政策) residents accept: its text in Chinese and English. Its version is the setting
PRIVACY_NOTICE_VERSION: change the text here and the version there together, and every resident accepts the
new notice before going on."""

from __future__ import annotations

NOTICE_ZH = (
    "微邻里隐私政策\n"
    "\n"
    "我们收集：手机号（登录与联系）、显示名、所住楼栋；您提交的报事、照片、评价、预约、社群与议事记录。\n"
    "\n"
    "用途：处理您的报事与预约，社区治理统计。其他居民只能看到您的显示名，看不到您的手机号；您选择匿名报事"
    "时，其他居民看到的是“匿名居民”。只有办理您事项的工作人员（网格员、承办部门、服务组织者）能看到您的"
    "完整手机号，其他工作人员只看到掩码号码（仅前三位和后四位），工作人员查看您的完整资料会被记"
    "录。\n"
    "\n"
    "保存期限：已办结报事的照片在办结满规定期限后删除，处理记录保留；访问记录定期清理。\n"
    "\n"
    "您的权利：随时导出您的全部数据，或注销账号（注销后您的报事等记录以“已注销居民”保留）。\n"
    "\n"
    "本政策更新后，您需要重新同意才能继续使用。"
)

NOTICE_EN = """Weilinli privacy notice

What we collect: your phone number (sign-in and contact), display name and building; the reports, photos,
ratings, bookings, group and deliberation records you create.

What for: handling your reports and bookings, and community statistics. Other residents see your display name,
never your phone number; when you report anonymously they see "Anonymous resident". Only staff handling your
matter (the grid worker, the department it is dispatched to, the service's organiser) see your full number;
other staff see it masked (first three and last four digits only), and staff reads of your full
profile are recorded.

How long: photos of finished reports are deleted after the retention period, their records kept; access logs
are purged regularly.

Your rights: export all your data at any time, or delete your account (your reports then stay as "Deleted
resident").

When this notice changes, you accept the new version before going on."""
