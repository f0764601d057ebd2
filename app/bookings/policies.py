"""Who may see and do what with services, slots and bookings. Pure functions over facts; no models.

- Managers of a service: admins whose scope covers its community (like departments and categories, a service
  hangs on a node: the community's own admins manage it).
- Staff of a service: its managers and the staff of its provider department; they list its bookings and mark
  attendance.
- Residents: the services of their own community; their own bookings.
- Errands: the grid workers of the grid the resident lived in when asking (and the managers) see them; only those
  grid workers take the errand's steps. Anyone else gets 404.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.auth.principal import Principal
from app.users.roles import Role


@dataclass(frozen=True, slots=True)
class ServiceFacts:
    community_id: int
    grid_path: str  # the community's path
    provider_department_id: int | None
    retired: bool


@dataclass(frozen=True, slots=True)
class BookingFacts:
    resident_id: int
    grid_id: int
    errand: bool


def can_manage(p: Principal, s: ServiceFacts) -> bool:
    """Change the service, its slots and timetable; cancel slots."""
    return p.in_scope(s.grid_path)


def is_service_staff(p: Principal, s: ServiceFacts) -> bool:
    return can_manage(p, s) or (p.role is Role.department and p.department_id is not None
                                and p.department_id == s.provider_department_id)


def can_see_service(p: Principal, s: ServiceFacts, worker_communities: frozenset[int] = frozenset()) -> bool:
    """Residents: their community's services, retired ones left out. Grid workers: services of the communities of
    their grids. Staff of the service: always."""
    if p.role is Role.resident:
        return p.community_id == s.community_id and not s.retired
    if p.role is Role.grid_worker:
        return s.community_id in worker_communities
    return is_service_staff(p, s)


def can_book(p: Principal) -> bool:
    return p.role is Role.resident


def is_errand_keeper(p: Principal, b: BookingFacts) -> bool:
    return b.errand and p.role is Role.grid_worker and b.grid_id in p.grid_ids


def can_see_booking(p: Principal, b: BookingFacts, s: ServiceFacts) -> bool:
    return p.user_id == b.resident_id or is_errand_keeper(p, b) or is_service_staff(p, s)


def can_cancel(p: Principal, b: BookingFacts) -> bool:
    return p.user_id == b.resident_id


def can_mark_attendance(p: Principal, b: BookingFacts, s: ServiceFacts) -> bool:
    return not b.errand and is_service_staff(p, s)


def can_rate(p: Principal, b: BookingFacts) -> bool:
    return p.user_id == b.resident_id
