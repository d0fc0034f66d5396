"""The room's Solara app: its routes (the module ``stalemate-room`` serves).

- ``/`` — a student's page (:mod:`sim.classroom.room_student`);
- ``/teacher?key=…`` — the teacher's console (:mod:`sim.classroom.room_teacher`);
- ``/projector?key=…`` — the projector view (:mod:`sim.classroom.room_projector`).

Importing it starts nothing: the room is made and handed over by
``stalemate-room`` (:mod:`sim.classroom.room_app`).
"""

from __future__ import annotations

import solara

from sim.classroom.room_projector import ProjectorPage
from sim.classroom.room_student import StudentPage
from sim.classroom.room_teacher import TeacherPage


@solara.component
def Layout(children=[]):  # noqa: B006 - Solara's children convention
    return solara.Div(children=children)


routes = [
    solara.Route(path="/", component=StudentPage, label="Stalemate", layout=Layout),
    solara.Route(path="teacher", component=TeacherPage, label="Teacher"),
    solara.Route(path="projector", component=ProjectorPage, label="Projector"),
]
