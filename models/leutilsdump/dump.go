// Package leutilsdump reads le-utils' vocabulary: dump.py, run by a Python
// that has le-utils installed, prints it as one JSON document (Dump). The
// generator (models/leutilsgen) writes Go tables from it, and the models
// tests compare those tables with it.
package leutilsdump

import _ "embed" // dump.py

// Script is dump.py: run it with the Python of a le-utils install.
//
//go:embed dump.py
var Script []byte

// Dump is dump.py's output.
type Dump struct {
	Version string `json:"version"`
	// PackageDir is where the le_utils that dump.py read is installed.
	PackageDir string                `json:"package_dir"`
	Languages  []Language            `json:"languages"`
	Kinds      []struct{ ID string } `json:"kinds"`
	Formats    []struct {
		ID       string `json:"id"`
		MIMEType string `json:"mimetype"`
	} `json:"formats"`
	Presets []struct {
		ID             string   `json:"id"`
		Kind           *string  `json:"kind"`
		Supplementary  bool     `json:"supplementary"`
		Thumbnail      bool     `json:"thumbnail"`
		Subtitle       bool     `json:"subtitle"`
		MultiLanguage  bool     `json:"multi_language"`
		Display        bool     `json:"display"`
		Order          int      `json:"order"`
		AllowedFormats []string `json:"allowed_formats"`
	} `json:"presets"`
	Licenses []struct {
		ID                      string `json:"id"`
		Name                    string `json:"name"`
		URL                     string `json:"url"`
		Custom                  bool   `json:"custom"`
		CopyrightHolderRequired bool   `json:"copyright_holder_required"`
	} `json:"licenses"`
	RenderablePresetsOrder []string              `json:"renderable_presets_order"`
	MasteryModels          []struct{ ID string } `json:"mastery_models"`
	QuestionTypes          []struct{ ID string } `json:"question_types"`
	CompletionCriteria     []string              `json:"completion_criteria"`
	Modalities             []string              `json:"modalities"`
	Roles                  []struct{ ID string } `json:"roles"`
	Libraries              []string              `json:"libraries"`
	Labels                 map[string][]Label    `json:"labels"`
}

// Language is one entry of languagelookup.json.
type Language struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	NativeName string `json:"native_name"`
	RTL        bool   `json:"rtl"`
}

// Label is one label of a le-utils label module.
type Label struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Constant string `json:"constant"`
}
