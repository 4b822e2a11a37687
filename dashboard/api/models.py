"""What the API takes and gives, as pydantic models: they parse requests, shape answers and write the OpenAPI schema."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

Range = Literal["shift", "today", "24h", "7d", "30d", "qtd", "custom"]
Group = Literal["plant", "line", "machine"]
Number = float | None  # null where a ratio has nothing to divide (no planned time)


class Query(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class ViewQuery(Query):
    """The view, as in a page's URL fragment: '#range=7d&plant=BER&group=line'."""

    range: Range | None = Field(None, description="range preset; 'custom' (implied by from/to) needs from and to")
    first: date | None = Field(None, alias="from", description="custom range: first plant-local date, YYYY-MM-DD")
    last: date | None = Field(None, alias="to", description="custom range: last plant-local date (inclusive)")
    plant: str | None = Field(None, max_length=4000, description="comma-separated plant ids; default all in scope")
    line: str | None = Field(None, max_length=4000, description="comma-separated line ids")
    machine: str | None = Field(None, max_length=4000, description="comma-separated machine ids")
    group: Group = Field("plant", description="grouping of per-group answers")


class PageQuery(ViewQuery):
    cursor: str | None = Field(None, max_length=200, description="'next_cursor' of the previous page")
    limit: int = Field(1000, ge=1, le=5000, description="items per page")


class ListQuery(Query):
    cursor: str | None = Field(None, max_length=200, description="'next_cursor' of the previous page")
    limit: int = Field(1000, ge=1, le=5000, description="items per page")


class NoQuery(Query):
    pass


class SensorQuery(Query):
    start: AwareDatetime = Field(alias="from", description="window start, ISO 8601 with its UTC offset")
    end: AwareDatetime = Field(alias="to", description="window end (exclusive), ISO 8601 with its UTC offset")
    width: int = Field(1000, ge=50, le=4000, description="points wanted: about the chart's width in pixels")


class Error(BaseModel):
    status: int = Field(description="the HTTP status")
    error: str = Field(description="the status in words, e.g. 'Not Found'")
    message: str = Field(description="what was wrong, in words")


class ViewInfo(BaseModel):
    range: str
    start: datetime = Field(description="window start (UTC) as seen from the display time zone")
    end: datetime = Field(description="window end (UTC), exclusive")
    tz: str = Field(description="display time zone: the plant's when one plant is in view, else UTC")
    plants: list[str]
    lines: list[str]
    machines: list[str]
    group: str
    link: str = Field(description="URL fragment that opens the same view on the pages")


class Parts(BaseModel):
    oee: Number
    availability: Number
    performance: Number
    quality: Number
    scrap_rate: Number
    planned_s: float = Field(description="planned production time, seconds")
    run_s: float = Field(description="run time, seconds")
    ideal_run_s: float = Field(description="ideal cycle time x total count, seconds")
    good_ideal_s: float = Field(description="ideal cycle time x good count (fully productive time), seconds")
    startup_ideal_s: float = Field(description="ideal cycle time x start-up rejects, seconds")
    total_count: float = Field(description="units made")
    good_count: float = Field(description="good units")
    startup_rejects: float = Field(description="units rejected while starting up")


class PlantOee(Parts):
    plant_id: str
    name: str
    tz: str
    start: datetime
    end: datetime


class OeeTotals(BaseModel):
    view: ViewInfo
    total: Parts
    plants: list[PlantOee]


class GroupOee(Parts):
    key: str
    name: str


class OeeGroups(BaseModel):
    view: ViewInfo
    items: list[GroupOee]


class SeriesPoint(Parts):
    key: str
    name: str
    start: datetime | None = Field(description="bucket start (UTC) for buckets of seconds; null for days and weeks")
    day: date | None = Field(description="plant-local date (week start for weekly buckets); null for shorter ones")


class OeeSeries(BaseModel):
    view: ViewInfo
    bucket: str = Field(description="seconds per bucket ('900'), or 'day' or 'week'")
    items: list[SeriesPoint]
    next_cursor: str | None


class DailyPoint(Parts):
    plant_id: str
    key: str
    day: date


class OeeDaily(BaseModel):
    view: ViewInfo
    items: list[DailyPoint]
    next_cursor: str | None


class Loss(BaseModel):
    category: str
    label: str
    seconds: float


class Losses(BaseModel):
    view: ViewInfo
    items: list[Loss]


class Reason(BaseModel):
    reason_code: str
    label: str
    category: str
    events: int
    seconds: float
    cumulative_share: Number


class Downtime(BaseModel):
    view: ViewInfo
    items: list[Reason]


class Stock(BaseModel):
    plant_id: str
    material_id: str
    name: str
    unit: str
    on_hand: Number
    daily_use: Number
    days_of_cover: Number
    reorder_point: Number
    safety_stock: Number
    below_reorder: bool
    value: Number


class Inventory(BaseModel):
    at: datetime
    items: list[Stock]
    next_cursor: str | None


class Plant(BaseModel):
    plant_id: str
    name: str
    tz: str


class Plants(BaseModel):
    items: list[Plant]


class Sensor(BaseModel):
    sensor_id: int
    machine_id: str
    plant_id: str
    kind: str
    unit: str
    lo_limit: Number
    hi_limit: Number


class Sensors(BaseModel):
    items: list[Sensor]
    next_cursor: str | None


class SensorSeries(BaseModel):
    sensor_id: int
    unit: str
    start: datetime
    end: datetime
    label: str = Field(description="how the line was reduced: 'raw', 'MinMaxLTTB of N readings' or an envelope")
    points_in_window: int
    t: list[int] = Field(description="epoch milliseconds")
    value: list[Number] = Field(description="the line; null marks a gap")
    lo: list[Number] = Field(description="envelope minimum per point (empty when raw)")
    hi: list[Number] = Field(description="envelope maximum per point (empty when raw)")
    alarm_t: list[int] = Field(description="epoch ms of readings beyond a limit")
    alarm_value: list[float]
