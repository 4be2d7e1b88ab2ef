"""Coursework from chapter 10: student edition, student bundle, grading an instructor can trust.

Commands (:mod:`cslnb.teaching.__main__`)::

    python -m cslnb.teaching generate            # coursework/student/ and coursework/solutions/
    python -m cslnb.teaching bundle              # coursework/cslnb-coursework.zip, for students
    python -m cslnb.teaching grade SUBMISSIONS   # coursework/grades.csv, gradebook.csv, feedback/,
                                                 #   written/ (marking sheets), grades.json
    python -m cslnb.teaching marks               # merge the sheets' marks into the reports

Modules: :mod:`~cslnb.teaching.assign` (student edition, Otter Assign),
:mod:`~cslnb.teaching.student` (what the student edition's first cell calls),
:mod:`~cslnb.teaching.bundle` (the zip), :mod:`~cslnb.teaching.answers` (what each exercise
exports and how it is checked), :mod:`~cslnb.teaching.export` (the export run in the student's
kernel), :mod:`~cslnb.teaching.kernel` and :mod:`~cslnb.teaching.runner` (running a notebook
with limits), :mod:`~cslnb.teaching.isolation` (workspaces, the checkout check),
:mod:`~cslnb.teaching.scan` (shortcuts and flags), :mod:`~cslnb.teaching.checker` (the checks,
in a fresh process), :mod:`~cslnb.teaching.written` (the written parts, their marking sheets and
marks), :mod:`~cslnb.teaching.grading` and :mod:`~cslnb.teaching.report`.
"""
