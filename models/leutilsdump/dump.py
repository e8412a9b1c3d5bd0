"""Print le-utils' vocabulary as one JSON document on standard output.

leutilsgen runs this with a Python that has the pinned le-utils installed and
writes Go tables from its output; the models tests run it to compare those
tables with an installed le-utils. Only le-utils' own data is read: the
resource files through pkgutil, as le-utils reads them, and the constants
modules. Dicts keep their order (Python 3.7+), so lists come out in
le-utils' order.
"""

import json
import os
import pkgutil
import sys
from importlib import metadata

import le_utils
from le_utils.constants import (
    completion_criteria,
    exercises,
    format_presets,
    library,
    modalities,
    roles,
)
from le_utils.constants.labels import (
    accessibility_categories,
    learning_activities,
    levels,
    needs,
    resource_type,
    subjects,
)


def resource(name):
    """A resource file as a list of its entries, each with its key as id."""
    data = json.loads(pkgutil.get_data("le_utils", "resources/%s.json" % name).decode("utf-8"))
    return [dict(id=key, **value) for key, value in data.items()]


def choices(pairs):
    return [{"id": value, "name": name} for value, name in pairs]


def label_set(module):
    """A label module's labels: id, readable name and constant name."""
    names = {v: k for k, v in vars(module).items() if k.isupper() and isinstance(v, str)}
    return [{"id": value, "name": name, "constant": names[value]} for value, name in module.choices]


out = {
    "version": metadata.version("le-utils"),
    "package_dir": os.path.dirname(os.path.abspath(le_utils.__file__)),
    "languages": resource("languagelookup"),
    "kinds": resource("kindlookup"),
    "formats": resource("formatlookup"),
    "presets": resource("presetlookup"),
    "licenses": resource("licenselookup"),
    "renderable_presets_order": list(format_presets.RENDERABLE_PRESETS_ORDER),
    "mastery_models": choices(exercises.MASTERY_MODELS),
    "question_types": choices(exercises.question_choices),
    "completion_criteria": list(completion_criteria.COMPLETIONCRITERIALIST),
    "modalities": list(modalities.MODALITIESLIST),
    "roles": choices(roles.choices),
    "libraries": list(library.LIBRARYLIST),
    "labels": {
        "levels": label_set(levels),
        "resource_type": label_set(resource_type),
        "learning_activities": label_set(learning_activities),
        "accessibility_categories": label_set(accessibility_categories),
        "subjects": label_set(subjects),
        "needs": label_set(needs),
    },
}
json.dump(out, sys.stdout, ensure_ascii=False, indent=1)
sys.stdout.write("\n")
