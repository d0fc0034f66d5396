"""The room's Solara app: its routes (the module ``stalemate-room`` serves).

- ``/`` — a student's seat: a thin page of its own (:mod:`sim.classroom.room_student`),
  served before Solara sees the request;
- ``/teacher?key=…`` — the teacher's console (:mod:`sim.classroom.room_teacher`);
- ``/projector?key=…`` — the projector view (:mod:`sim.classroom.room_projector`).

Importing it starts nothing: the room is made and handed over by
``stalemate-room`` (:mod:`sim.classroom.room_app`).
"""

from __future__ import annotations

import solara

from sim.classroom.room_projector import ProjectorPage
from sim.classroom.room_teacher import TeacherPage


@solara.component
def Elsewhere():
    """Solara's "/" (the students' page is served by the room itself, before Solara)."""
    solara.Text("Students: open this address in a browser and enter the code on the projector.")


@solara.component
def Layout(children=[]):  # noqa: B006 - Solara's children convention
    return solara.Div(children=children)


routes = [
    solara.Route(path="/", component=Elsewhere, label="Stalemate", layout=Layout),
    solara.Route(path="teacher", component=TeacherPage, label="Teacher"),
    solara.Route(path="projector", component=ProjectorPage, label="Projector"),
]
