"""The tracking of client needs (seed 003, 五、客户需求跟踪与监控; R70-R73): the tracking ledger
(需求跟踪台账) and the weekly tracking check (每周跟踪检查) with its 协调解决 remarks."""
