#!/usr/bin/env python
"""A sushi chef made of ricecooker's own classes, for TestRicecookerChef.

It uploads, unchanged, what any chef would: a topic tree with a document
(with a thumbnail), an HTML5 app, a video in a subtopic and an exercise
with single-selection, multiple-selection and input questions, one of them
with an image. Its files are in $CHEF_FILES, which the test writes; it
needs no internet. After building the tree it writes, to
$CHEF_FILES/manifest.json, the ids ricecooker computed for every node,
for the test to compare with studio's.

Run as any chef: STUDIO_URL=http://… python ricecooker_chef.py --token T --deploy --publish
"""
import json
import os

from le_utils.constants import exercises, licenses
from ricecooker.chefs import SushiChef
from ricecooker.classes import files, nodes, questions
from ricecooker.classes.licenses import get_license

FILES = os.environ["CHEF_FILES"]


def path(name):
    return os.path.join(FILES, name)


def cc_by():
    return get_license(licenses.CC_BY, copyright_holder="Ricecooker Check")


class Chef(SushiChef):
    channel_info = {
        "CHANNEL_SOURCE_DOMAIN": "ricecooker-check.example.org",
        "CHANNEL_SOURCE_ID": "studio-ricecooker-test",
        "CHANNEL_TITLE": "Ricecooker check",
        "CHANNEL_LANGUAGE": "en",
        "CHANNEL_DESCRIPTION": "A channel uploaded by an unmodified ricecooker.",
        "CHANNEL_TAGLINE": "ricecooker to studio",
        "CHANNEL_THUMBNAIL": path("channel.png"),
    }

    def construct_channel(self, **kwargs):
        channel = self.get_channel(**kwargs)

        reading = nodes.TopicNode(source_id="topic-reading", title="Reading", description="Things to read")
        channel.add_child(reading)
        reading.add_child(
            nodes.DocumentNode(
                source_id="doc-1",
                title="A document",
                author="Ricecooker",
                license=cc_by(),
                tags=["check"],
                thumbnail=path("thumb.png"),
                files=[files.DocumentFile(path=path("sample.pdf"))],
            )
        )
        reading.add_child(
            nodes.HTML5AppNode(
                source_id="app-1",
                title="An HTML5 app",
                license=cc_by(),
                files=[files.HTMLZipFile(path=path("app.zip"))],
            )
        )
        deeper = nodes.TopicNode(source_id="topic-deeper", title="Deeper")
        reading.add_child(deeper)
        deeper.add_child(
            nodes.VideoNode(
                source_id="vid-1",
                title="A video",
                license=cc_by(),
                files=[files.VideoFile(path=path("clip.mp4"))],
            )
        )

        practice = nodes.TopicNode(source_id="topic-practice", title="Practice")
        channel.add_child(practice)
        practice.add_child(
            nodes.ExerciseNode(
                source_id="ex-1",
                title="An exercise",
                license=cc_by(),
                exercise_data={"mastery_model": exercises.M_OF_N, "m": 2, "n": 3},
                questions=[
                    questions.SingleSelectQuestion(
                        id="q-single",
                        question="Which shape is this? ![a square](%s)" % path("square.png"),
                        correct_answer="A square",
                        all_answers=["A circle", "A square", "A triangle"],
                        hints=["Count its corners."],
                    ),
                    questions.MultipleSelectQuestion(
                        id="q-multiple",
                        question="Which numbers are even?",
                        correct_answers=["2", "8"],
                        all_answers=["2", "3", "8", "9"],
                    ),
                    questions.InputQuestion(
                        id="q-input",
                        question="What is 6 times 7?",
                        answers=["42"],
                    ),
                ],
            )
        )
        write_manifest(channel)
        return channel


def write_manifest(channel):
    """Writes the ids ricecooker computed, by source id."""
    out = {"channel_id": channel.get_node_id().hex, "nodes": {}}

    def walk(node, parent):
        entry = {
            "title": node.title,
            "kind": node.kind,
            "node_id": node.get_node_id().hex,
            "content_id": node.get_content_id().hex,
            "parent": parent,
        }
        if getattr(node, "questions", None):
            entry["assessment_ids"] = [q.id.hex for q in node.questions]
        out["nodes"][node.source_id] = entry
        for child in node.children:
            walk(child, node.source_id)

    for child in channel.children:
        walk(child, "")
    with open(path("manifest.json"), "w") as f:
        json.dump(out, f, indent=1)


if __name__ == "__main__":
    Chef().main()
