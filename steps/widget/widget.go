// Package widget holds the small pieces of screen the wizard's steps share:
// text inputs, fitting and wrapping text to an area, and moving through a
// list. It knows nothing of the wizard: no setup, no theme, no I/O. What
// it draws of outside text goes through flow's sanitizer.
package widget
