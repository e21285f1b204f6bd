"""The exam's workflow rules, free of UI: what a console exam needs before it counts.

``steps``: the steps an exercise requires before Submit (the safety screening validated, a
series acquired with the current protocol), read from a console snapshot. The console, its
exercise panel and the mentor's page share it. The patient scenarios and the screening are
meant to move here from the console (issue 13).
"""
