"""Units of the plan: departments, Party organs, areas and zones, and named groups of them."""

import enum
from datetime import datetime
from typing import Optional

import sqlalchemy as sa
from sqlmodel import Field, Relationship, SQLModel

from tracker.db import UTCDateTime


class UnitKind(str, enum.Enum):
    department = "department"      #: 市直部门
    party_organ = "party_organ"    #: 党委机构 (市委组织部 …), names stand as written
    area = "area"                  #: 旗县区
    zone = "zone"                  #: 开发区、新区
    city = "city"                  #: the city as a whole
    government = "government"      #: 人民政府 of a lower level
    other = "other"

    @property
    def label(self) -> str:
        return UNIT_KIND_LABELS[self]


UNIT_KIND_LABELS = {
    UnitKind.department: "部门", UnitKind.party_organ: "党委机构", UnitKind.area: "旗县区",
    UnitKind.zone: "园区", UnitKind.city: "全市", UnitKind.government: "人民政府",
    UnitKind.other: "其他",
}


class GroupMembership(str, enum.Enum):
    listed = "listed"                      #: members listed in the directory
    plan_departments = "plan_departments"  #: every department the plan names, computed when used


def _enum(cls):
    return sa.Enum(cls, native_enum=False, length=32, validate_strings=True)


class Unit(SQLModel, table=True):
    __tablename__ = "units"

    id: Optional[int] = Field(default=None, primary_key=True)
    #: the name the plan uses (e.g. 市发展改革委); unique
    name: str = Field(sa_column=sa.Column(sa.String(120), nullable=False, unique=True))
    full_name: Optional[str] = Field(default=None, sa_column=sa.Column(sa.String(200)))
    kind: UnitKind = Field(default=UnitKind.department, sa_column=sa.Column(_enum(UnitKind), nullable=False))
    parent_id: Optional[int] = Field(default=None, foreign_key="units.id", index=True)
    is_active: bool = Field(default=True)
    #: a short ASCII code (fgw, sthjj) used for demo logins and file names
    code: Optional[str] = Field(default=None, sa_column=sa.Column(sa.String(40), unique=True))
    #: False when the importer created the unit from a name the directory did not know
    is_in_directory: bool = Field(default=True)
    created_dt: datetime = Field(sa_column=sa.Column(UTCDateTime, nullable=False))

    aliases: list["UnitAlias"] = Relationship(
        back_populates="unit",
        sa_relationship_kwargs={"lazy": "raise", "cascade": "all, delete-orphan",
                                "order_by": "UnitAlias.alias"})
    parent: Optional["Unit"] = Relationship(
        sa_relationship_kwargs={"lazy": "raise", "remote_side": "Unit.id"})

    @property
    def kind_label(self) -> str:
        return self.kind.label


class UnitAlias(SQLModel, table=True):
    """Another way the documents write a unit's name (short or long form)."""

    __tablename__ = "unit_aliases"

    id: Optional[int] = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="units.id", index=True, ondelete="CASCADE")
    alias: str = Field(sa_column=sa.Column(sa.String(200), nullable=False, unique=True))

    unit: Unit = Relationship(back_populates="aliases", sa_relationship_kwargs={"lazy": "raise"})


class UnitGroup(SQLModel, table=True):
    """A set named as one in the plan (各有关部门, 各旗县区…), kept as a group so the set can change."""

    __tablename__ = "unit_groups"

    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(sa_column=sa.Column(sa.String(200), nullable=False, unique=True))
    membership: GroupMembership = Field(
        default=GroupMembership.listed,
        sa_column=sa.Column(_enum(GroupMembership), nullable=False))
    note: Optional[str] = Field(default=None, sa_column=sa.Column(sa.String(400)))
    created_dt: datetime = Field(sa_column=sa.Column(UTCDateTime, nullable=False))

    members: list["UnitGroupMember"] = Relationship(
        sa_relationship_kwargs={"lazy": "raise", "cascade": "all, delete-orphan"})


class UnitGroupMember(SQLModel, table=True):
    __tablename__ = "unit_group_members"

    group_id: int = Field(foreign_key="unit_groups.id", primary_key=True, ondelete="CASCADE")
    unit_id: int = Field(foreign_key="units.id", primary_key=True, index=True, ondelete="CASCADE")

    unit: Unit = Relationship(sa_relationship_kwargs={"lazy": "raise"})


class Contact(SQLModel, table=True):
    """A person at a unit who receives the tracker's reminders."""

    __tablename__ = "unit_contacts"
    __table_args__ = (sa.UniqueConstraint("unit_id", "email"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="units.id", index=True, ondelete="CASCADE")
    name: str = Field(sa_column=sa.Column(sa.String(80), nullable=False))
    email: str = Field(sa_column=sa.Column(sa.String(200), nullable=False))
    phone: Optional[str] = Field(default=None, sa_column=sa.Column(sa.String(40)))
    updated_dt: datetime = Field(sa_column=sa.Column(UTCDateTime, nullable=False))

    unit: Unit = Relationship(sa_relationship_kwargs={"lazy": "raise"})
