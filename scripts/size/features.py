"""Code of a feature the profile turns off that is linked anyway.

Two signs, either one enough: a function that exists only for the feature
(by name, in the image's symbol table), or command text only the feature
writes (in the image's .rodata: the code that writes it is linked even if
it was inlined).  The names and strings are data, in budgets.json."""


def leftovers(symbols, strings, nm_by_image, rodata):
    """{feature: [what was found]} for the rules symbols = {feature:
    [names]} and strings = {feature: [text]}; nm_by_image = [{symbol:
    (size, type)}] of the images searched and rodata their .rodata bytes.
    A symbol matches by its name or a compiler clone of it (name.isra.0,
    name.constprop.0...)."""
    sizes = {}
    for nm in nm_by_image:
        for n, v in nm.items():
            sizes[n] = v[0]
    found = {}
    for feat, syms in symbols.items():
        for s in syms:
            for n in sorted(sizes):
                hit = '`%s` (%d bytes)' % (n, sizes[n])
                if (n == s or n.startswith(s + '.')) and hit not in found.get(feat, []):
                    found.setdefault(feat, []).append(hit)
    for feat, texts in strings.items():
        for t in texts:
            if t.encode('latin-1') in rodata:
                found.setdefault(feat, []).append('string "%s"' % t.replace('\x01', '^A'))
    return found
