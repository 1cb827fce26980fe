"""The words of the domain, in one place: layer names, classes, rules, statuses, colours.

Plain data only (tuples and dicts of text); this module imports nothing of ``zoning`` so
every tier may take its words from here (HOUSE.md, tier T0). Adding a class, a rule
code, a status or a colour starts here; the modules that use a word read it from here
and never retype it.
"""

from __future__ import annotations

# --- input layers (SPEC §3) ------------------------------------------------------------
#: Layers a classification cannot do without.
REQUIRED_LAYERS = ("parcels", "dev_boundary", "township_parks", "cluster_points")
#: Layers a classification uses when given.
OPTIONAL_LAYERS = ("protected", "towns")
#: Layers of the workshop programme (SPEC §6).
WORKSHOP_LAYERS = ("micro_parks", "workshops")
#: Optional layers of the blocks programme (SPEC §11): block polygons and scenic areas.
BLOCK_LAYERS = ("blocks", "scenic")
#: Every input layer a config may name, in this order.
LAYERS: tuple[str, ...] = (*REQUIRED_LAYERS, *OPTIONAL_LAYERS, *WORKSHOP_LAYERS, *BLOCK_LAYERS)

# --- plot classes and rules (SPEC §5) ----------------------------------------------------
CLASSES = ("retain", "consolidate", "vacate", "unclassified")
CLASS_ZH = {
    "retain": "保留提升",
    "consolidate": "纳入镇级园区",
    "vacate": "腾挪清退",
    "unclassified": "未分类",
}
CLASS_EN = {
    "retain": "retain",
    "consolidate": "consolidate",
    "vacate": "vacate",
    "unclassified": "unclassified",
}
#: Rules in the order they are tried (first match wins), with their class.
RULES = {
    "V1": "vacate",
    "V3": "vacate",
    "C1": "consolidate",
    "R1": "retain",
    "R2": "retain",
    "V2": "vacate",
    "C2": "consolidate",
}
RULE_ZH = {
    "V1": "位于生态保护红线/永久基本农田",
    "V3": "基准年后村内新增工业用地",
    "C1": "与镇级工业园区连片且在城镇开发边界内",
    "R1": "位于村级工业集聚点",
    "R2": "开发边界外零星生态友好/三产融合用地",
    "V2": "位于城镇开发边界外",
    "C2": "开发边界内未连片、不在集聚点：就近纳入镇级园区",
}
RULE_TEXT = {
    "V1": "in protected land (生态保护红线/永久基本农田)",
    "V3": "new industrial land in a village after the baseline year",
    "C1": "contiguous with a township park, inside the development boundary",
    "R1": "in a village industrial cluster point",
    "R2": "scattered eco-friendly or rural-fusion plot outside the boundary",
    "V2": "outside the urban development boundary",
    "C2": "inside the boundary, not contiguous, not in a cluster point: nearest township park",
}

# --- workshop classes (SPEC §6) ----------------------------------------------------------
WORKSHOP_CLASSES = ("eliminate", "demolish", "to_park", "upgrade")
WORKSHOP_CLASS_ZH = {
    "eliminate": "整治淘汰",
    "demolish": "搬迁拆除",
    "to_park": "园区集聚",
    "upgrade": "改造提升",
    "unclassified": "未分类",
}
WORKSHOP_CLASS_EN = {
    "eliminate": "eliminate",
    "demolish": "demolish",
    "to_park": "to park",
    "upgrade": "upgrade",
    "unclassified": "unclassified",
}

# --- colours -----------------------------------------------------------------------------
#: Okabe–Ito colours (readable with the common colour-vision deficiencies), one per class.
PALETTE = {
    "retain": "#009E73",
    "consolidate": "#0072B2",
    "vacate": "#D55E00",
    "unclassified": "#999999",
}
#: Workshop classes (SPEC §6), Okabe–Ito colours distinct from the plot classes.
WORKSHOP_PALETTE = {
    "eliminate": "#CC79A7",
    "demolish": "#E69F00",
    "to_park": "#56B4E9",
    "upgrade": "#F0E442",
    "unclassified": "#999999",
}
#: Ledger progress (SPEC §8), one colour per status group.
STATUS_GROUPS = {"pending": "#999999", "in_progress": "#E69F00", "final": "#009E73"}

# --- rows of the tables that are not a town ----------------------------------------------
#: The total row of every per-town table.
TOTAL = "合计"
#: The row of plots or workshops without a town.
UNKNOWN_TOWN = "(未知)"
#: Words the tables use for rows that are not a town: a town of that name is quoted.
RESERVED_TOWNS = (TOTAL, UNKNOWN_TOWN)

# --- languages of the texts a planner reads (issue 16: Chinese first) --------------------
#: Languages of reasons, flags and labels; the first is the default.
LANGS = ("zh", "en")
#: Why a plot or a workshop cannot be classified, as the layers word it (a regular
#: expression over the whole text) -> the Chinese text (``\1`` … quote the groups).
PROBLEM_ZH = {
    r"^geometry is null$": "图形缺失",
    r"^geometry is empty$": "图形为空",
    r"^geometry has zero area$": "图形面积为零",
    r"^invalid geometry has no polygonal part$": "无效图形修复后没有面状部分",
    r"^geometry is (\w+), not a polygon$": r"图形为 \1，不是面",
    r"^coordinates are not finite \(NaN or inf\); fix the vertices$": "坐标不是有限数（NaN 或 inf）；请修正节点",
    r"^lies outside China \(lon/lat near (.+) in (.+)\); fix its coordinates$": r"位于中国境外（\2 下经纬度约 \1）；请修正坐标",
    r"^no coordinates \(missing, empty, NaN or infinite\)$": "无坐标（缺失、为空、NaN 或无穷大）",
    r"^geometry is not a point$": "图形不是点",
    r"^outside the county \(in no town polygon\)$": "位于县域外（不在任何镇街范围内）",
}
#: Fixes a workshop still owes (SPEC §6), by code, in Chinese and English.
FIX_ZH = {
    "licence": "办理营业执照",
    "permit": "办理环评/排污许可",
    "hazards": "整改安全隐患",
    "separation": "三合一场所分离",
}
FIX_EN = {
    "licence": "business licence",
    "permit": "environmental permit",
    "hazards": "open hazards",
    "separation": "separate living from production",
}
#: Fields of the enterprise table (亩均效益评价, SPEC §8) as the grade flags name them.
ENTERPRISE_FIELD_ZH = {
    "land_mu": "用地面积（亩）",
    "tax_10k_yuan": "税收（万元）",
    "value_added_10k_yuan": "增加值（万元）",
    "energy_tce": "能耗（吨标煤）",
    "emissions_t": "排放量（吨）",
    "employees": "从业人数",
    "revenue_10k_yuan": "营业收入（万元）",
    "rd_10k_yuan": "研发经费（万元）",
}

# --- context layers: how the maps and the GeoPackage styles draw them ---------------------
#: layer -> (Chinese name, outline colour, outline width px, fill colour or None, fill
#: opacity, dashed): the county's own layers drawn under the plots (maps.CONTEXT draws
#: the same; tests/test_styles.py checks that the two agree).
CONTEXT_LOOK = {
    "towns": ("镇街", "#555555", 1.0, None, 0.0, False),
    "protected": ("生态保护红线/永久基本农田", "#4D9221", 0.5, "#A6DBA0", 0.35, False),
    "dev_boundary": ("城镇开发边界", "#7B3294", 1.5, "#7B3294", 0.05, True),
    "township_parks": ("镇级工业园区", "#000000", 1.5, "#56B4E9", 0.25, False),
    "cluster_points": ("村级工业集聚点", "#E69F00", 1.5, "#F0E442", 0.3, False),
}

# --- old industrial blocks and freed land (SPEC §11) ----------------------------------
#: Renovation modes of a block, with the rule that gives each (first match wins).
MODES = ("rebuild", "reorganise", "manage")
MODE_RULES = {"B1": "rebuild", "B2": "reorganise", "B3": "manage"}
MODE_ZH = {"rebuild": "拆除式", "reorganise": "梳理式", "manage": "管理提升式"}
MODE_EN = {"rebuild": "rebuild", "reorganise": "reorganise", "manage": "manage"}
#: Suggested reuse of a freed site, with its rule.
REUSES = ("reclaim", "tourism", "amenity")
REUSE_RULES = {"F1": "reclaim", "F2": "tourism", "F3": "amenity"}
REUSE_ZH = {"reclaim": "复垦", "tourism": "乡村旅游/民宿", "amenity": "村庄配套"}
REUSE_EN = {
    "reclaim": "reclaim",
    "tourism": "rural tourism / homestay",
    "amenity": "village amenity (parking, park, green space)",
}
#: Okabe–Ito colours for modes and reuses (distinct within each legend).
MODE_PALETTE = {"rebuild": "#D55E00", "reorganise": "#E69F00", "manage": "#0072B2"}
REUSE_PALETTE = {"reclaim": "#009E73", "tourism": "#CC79A7", "amenity": "#56B4E9"}
#: Chinese names of the columns a planner reads in the blocks outputs (SPEC §11).
BLOCK_COLUMNS_ZH = {
    "block_id": "区块编号",
    "name": "区块名称",
    "town": "镇街",
    "plots": "地块数",
    "mu": "面积（亩）",
    "built_year": "建成年份（中位数）",
    "floor_area_ratio": "容积率",
    "tax_per_mu": "亩均税收（万元/亩）",
    "output_per_mu": "亩均产值（万元/亩）",
    "investment_per_mu": "单位用地投资强度（万元/亩）",
    "d_share": "D类企业用地占比",
    "mode": "改造方式代码",
    "mode_zh": "改造方式",
    "rule": "规则",
    "reason": "依据",
    "site_id": "腾退地块编号",
    "boundary_share": "开发边界内占比",
    "reuse": "利用方向代码",
    "reuse_zh": "利用方向",
    "sites": "地块（片）数",
    "quota_mu": "建设用地指标（亩）",
    "year": "年份",
}
#: Chinese header names accepted in an enterprise table besides the canonical ones.
ENTERPRISE_FIELDS_ZH = {
    "企业编号": "enterprise_id",
    "企业名称": "enterprise",
    "镇街": "town",
    "年份": "year",
    "年度": "year",
    "用地面积": "land_mu",
    "税收": "tax_10k_yuan",
    "营业收入": "revenue_10k_yuan",
    "投资额": "investment_10k_yuan",
}


# --- workshop safety, source control, campaigns, safety grid (SPEC §12) -----------------
#: Three-in-one checks: code -> (field that decides it, fix owed in Chinese).
SAFETY_CHECKS = {
    "S1": ("hazardous_goods", "搬离甲乙类物品"),
    "S2": ("fire_separation", "防火分隔"),
    "S3": ("separate_exit", "独立疏散通道"),
    "S4": ("smoke_alarm", "独立式感烟报警器"),
    "S5": ("window_escape", "拆除窗户防盗栏"),
    "S6": ("sprinkler", "自动喷水灭火"),
}
#: The fix owed per failed check (joins the fixes of SPEC §6 under its code).
SAFETY_FIX_ZH = {code: fix for code, (_, fix) in SAFETY_CHECKS.items()}
SAFETY_FIX_EN = {
    "S1": "no class A/B goods",
    "S2": "fire separation",
    "S3": "separate escape route",
    "S4": "smoke alarms",
    "S5": "remove window bars",
    "S6": "sprinklers",
}
FIX_ZH.update(SAFETY_FIX_ZH)
FIX_EN.update(SAFETY_FIX_EN)
#: What each check asks, in Chinese (a planner's checklist line).
SAFETY_CHECK_ZH = {
    "S1": "存放或生产甲乙类物品",
    "S2": "居住部分未防火分隔",
    "S3": "居住部分无独立疏散通道",
    "S4": "居住部分无独立式感烟报警器",
    "S5": "居住部分窗户设固定防盗栏",
    "S6": "住宿人数达标未设自动喷水灭火",
}
#: Risk levels of a workshop, worst first; `none`: not three-in-one (no checks).
RISK_LEVELS = ("high", "medium", "unknown", "low", "none")
RISK_ZH = {
    "high": "高风险",
    "medium": "中风险",
    "unknown": "待核查",
    "low": "低风险",
    "none": "非三合一",
}
#: Risk colours (Okabe–Ito): the map's switch beside the class colouring.
RISK_PALETTE = {
    "high": "#D55E00",
    "medium": "#E69F00",
    "unknown": "#999999",
    "low": "#009E73",
    "none": "#DDDDDD",
}
#: Source control (源头管控): why a workshop gets no three-phase industrial power.
NO_POWER_ZH = "不予提供三相工业用电"
#: Findings of the safety grid (安全生产网格化).
GRID_FINDINGS = ("no_officer", "missed_month", "missed_quarter", "cluster_no_body")
GRID_FINDING_ZH = {
    "no_officer": "未配备安管员",
    "missed_month": "村级月度例会缺失",
    "missed_quarter": "镇级季度例会缺失",
    "cluster_no_body": "集聚点未设管理/安全监管机构",
}
#: Meeting levels of the grid's meeting log (words towns type -> level).
MEETING_LEVELS = {
    "village": "village",
    "村": "village",
    "村级": "village",
    "town": "town",
    "镇": "town",
    "镇级": "town",
    "镇街": "town",
}
#: The 亩均 indicators of the grading (SPEC §8): name -> (numerator field, denominator
#: field, Chinese name).
GRADING_INDICATORS = {
    "tax_per_mu": ("tax_10k_yuan", "land_mu", "亩均税收"),
    "value_added_per_mu": ("value_added_10k_yuan", "land_mu", "亩均增加值"),
    "value_added_per_tce": ("value_added_10k_yuan", "energy_tce", "单位能耗增加值"),
    "value_added_per_emission": ("value_added_10k_yuan", "emissions_t", "单位排放增加值"),
    "labour_productivity": ("value_added_10k_yuan", "employees", "全员劳动生产率"),
    "rd_share": ("rd_10k_yuan", "revenue_10k_yuan", "研发经费占比"),
}
#: The per-mu indicators of an old industrial block (SPEC §11): name -> numerator field
#: of the enterprise table.
BLOCK_INDICATORS = {
    "tax_per_mu": "tax_10k_yuan",
    "output_per_mu": "revenue_10k_yuan",
    "investment_per_mu": "investment_10k_yuan",
}


# --- comparing blocks (SPEC §11 what-ifs) ----------------------------------------------
#: Chinese names of the columns of a comparison's changed blocks and freed sites.
BLOCK_CHANGES_ZH = {
    "block_id": "区块编号",
    "site_id": "腾退地块编号",
    "town": "镇街",
    "mu": "面积（亩）",
    "from_mode": "原改造方式",
    "to_mode": "新改造方式",
    "from_reuse": "原利用方向",
    "to_reuse": "新利用方向",
    "from_rule": "原规则",
    "to_rule": "新规则",
    "to_reason": "新依据",
}

# --- ledger statuses (SPEC §8) -----------------------------------------------------------
#: Classes a ledger item of each kind may carry.
CLASSES_OF = {
    "parcel": CLASSES,
    "workshop": (*WORKSHOP_CLASSES, "unclassified"),
    "block": MODES,  # SPEC §11: a block carries its renovation mode
    "site": REUSES,  # and a freed site its suggested reuse
}
#: Statuses of work not yet done.
OPEN_STATUSES = ("pending", "in_progress")
#: (kind, class) -> the status that closes the item.
FINAL_STATUS = {
    ("parcel", "vacate"): "cleared",
    ("parcel", "consolidate"): "absorbed",
    ("parcel", "retain"): "upgraded",
    ("workshop", "eliminate"): "closed",
    ("workshop", "demolish"): "demolished",
    ("workshop", "to_park"): "moved",
    ("workshop", "upgrade"): "rectified",
    **{("block", m): "renovated" for m in MODES},
    **{("site", r): "reused" for r in REUSES},
}
STATUS_ZH = {
    "pending": "待处置",
    "in_progress": "推进中",
    "cleared": "已腾退",
    "absorbed": "已纳入园区",
    "upgraded": "已提升",
    "closed": "已关停",
    "demolished": "已拆除",
    "moved": "已入园",
    "rectified": "已整改",
    "renovated": "已改造",
    "reused": "已利用",
}
STATUS_EN = {k: k.replace("_", " ") for k in STATUS_ZH}
#: Progress drawn as three groups: not started, under way, done.
STATUS_GROUP_ZH = {"pending": "待处置", "in_progress": "推进中", "final": "已完成"}
STATUS_GROUP_EN = {"pending": "not started", "in_progress": "under way", "final": "done"}

# --- blocks and freed sites in the ledger (SPEC §8, §11) --------------------------------
#: Ledger kinds of the blocks programme, with the classes (mode, reuse) their items carry.
BLOCK_KINDS = {"block": MODES, "site": REUSES}
#: Ledger kinds in Chinese (the 清单's 类型 column; update sheets may use these words).
KIND_ZH = {"parcel": "地块", "workshop": "家庭作坊", "block": "区块", "site": "腾退地块"}
#: The classes of every ledger kind in Chinese, by code.
ITEM_CLASS_ZH = {**CLASS_ZH, **WORKSHOP_CLASS_ZH, **MODE_ZH, **REUSE_ZH}
