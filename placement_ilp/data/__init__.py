"""The data model, the bottom layer: the operator graph (:mod:`.graph`), the devices
(:mod:`.topology`), an instance of the problem (:mod:`.instance`), a placement
(:mod:`.placement`), the checks of numbers and counts they share (:mod:`.checks`),
colour groups contracted (:mod:`.preprocess`) and structural facts such as the
graph's width (:mod:`.structure`). It imports nothing of the package but
:mod:`placement_ilp.errors`.
"""
