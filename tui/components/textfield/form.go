package textfield

import tea "charm.land/bubbletea/v2"

// Form is a column of fields with one focus that next/previous move round. Stops past the fields (a result
// pane below them) take the focus too, but no keys: the page handles those.
type Form struct {
	Fields []Model
	stops  int
	focus  int
}

// NewForm is a form of the fields, focused on the first, with extra focus stops after them.
func NewForm(extra int, fields ...Model) Form {
	f := Form{Fields: fields, stops: len(fields) + extra}
	f.Focus(0)
	return f
}

// Focused is the focus stop: a field's index, or len(Fields)+n for the extra stop n.
func (f *Form) Focused() int { return f.focus }

// OnField reports whether a field has the focus (not an extra stop).
func (f *Form) OnField() bool { return f.focus < len(f.Fields) }

// Focus moves the focus to stop i.
func (f *Form) Focus(i int) {
	f.focus = i
	for j := range f.Fields {
		if j == i {
			f.Fields[j].Focus()
		} else {
			f.Fields[j].Blur()
		}
	}
}

// Blur takes the keyboard from every field (while the page's job runs); Focus gives it back.
func (f *Form) Blur() {
	for j := range f.Fields {
		f.Fields[j].Blur()
	}
}

// Next moves the focus to the next stop, from the last back to the first.
func (f *Form) Next() {
	if f.stops > 0 {
		f.Focus((f.focus + 1) % f.stops)
	}
}

// Prev moves the focus to the stop before, from the first round to the last.
func (f *Form) Prev() {
	if f.stops > 0 {
		f.Focus((f.focus + f.stops - 1) % f.stops)
	}
}

// Update gives a key or paste to the focused field; false when an extra stop has the focus or the field
// does not take it.
func (f *Form) Update(msg tea.Msg) bool {
	if !f.OnField() {
		return false
	}
	return f.Fields[f.focus].Update(msg)
}
