/* SPDX-License-Identifier: MIT */
/* svg.c - small plain-SVG 1.1 writers shared by the tool's charts. */
#include "svg.h"

void svg_escape(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '&': fputs("&amp;", f); break;
		case '"': fputs("&quot;", f); break;
		default:
			if ((unsigned char)*s >= 0x20 || *s == '\n')
				fputc(*s, f);
		}
	}
}

void svg_text(FILE *f, double x, double y, const char *anchor, int size, const char *fill,
	      const char *s)
{
	fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\" font-size=\"%d\" fill=\"%s\">",
		x, y, anchor, size, fill);
	svg_escape(f, s);
	fputs("</text>\n", f);
}

void svg_rect(FILE *f, double x, double y, double w, double h, const char *fill,
	      const char *stroke, const char *title)
{
	if (w < 0 || h < 0)
		return;
	fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"", x, y,
		w, h, fill);
	if (stroke)
		fprintf(f, " stroke=\"%s\" stroke-dasharray=\"4 2\"", stroke);
	if (!title) {
		fputs("/>\n", f);
		return;
	}
	fputs("><title>", f);
	svg_escape(f, title);
	fputs("</title></rect>\n", f);
}

void svg_line(FILE *f, double x1, double y1, double x2, double y2, const char *stroke,
	      double width, const char *dash)
{
	fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"%.1f\"%s%s%s/>\n",
		x1, y1, x2, y2, stroke, width, dash ? " stroke-dasharray=\"" : "", dash ? dash : "",
		dash ? "\"" : "");
}

void svg_circle(FILE *f, double cx, double cy, double r, const char *fill, const char *title)
{
	fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%.1f\" fill=\"%s\"", cx, cy, r, fill);
	if (!title) {
		fputs("/>\n", f);
		return;
	}
	fputs("><title>", f);
	svg_escape(f, title);
	fputs("</title></circle>\n", f);
}

void svg_polyline(FILE *f, const double *xs, const double *ys, int n, const char *stroke,
		  double width, const char *dash)
{
	if (n < 2)
		return;
	fputs("<polyline fill=\"none\" points=\"", f);
	for (int i = 0; i < n; i++)
		fprintf(f, "%s%.1f,%.1f", i ? " " : "", xs[i], ys[i]);
	fprintf(f, "\" stroke=\"%s\" stroke-width=\"%.1f\"%s%s%s/>\n", stroke, width,
		dash ? " stroke-dasharray=\"" : "", dash ? dash : "", dash ? "\"" : "");
}

void svg_begin(FILE *f, int width, int height)
{
	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		   "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%d\" height=\"%d\" "
		   "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\">\n",
		width, height, width, height);
	svg_rect(f, 0, 0, width, height, "#fff", NULL, NULL);
}
