import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileTemplate, TemplateError, type TemplateSources } from '../../src/load/template.ts';

const fixed: TemplateSources = { uuid: () => 'u-1', random: () => 0.5, now: () => 1700 };

describe('payload templates', () => {
  const cases: [name: string, template: string, i: number, want: unknown][] = [
    ['no placeholder', '{"a": 1}', 7, { a: 1 }],
    ['{{i}} as a number', '{"row": {{i}}}', 42, { row: 42 }],
    ['{{i}} inside a string', '{"id": "{{i}}"}', 3, { id: '3' }],
    ['{{uuid}}', '{"id": "{{uuid}}"}', 0, { id: 'u-1' }],
    ['{{now}}', '{"at": {{now}}}', 0, { at: 1700 }],
    ['{{rand:MIN:MAX}} (random 0.5)', '{"n": {{rand:10:20}}}', 0, { n: 15 }],
    ['negative bounds', '{"n": {{rand:-5:-5}}}', 0, { n: -5 }],
    ['spaces inside braces', '{"row": {{ i }}}', 1, { row: 1 }],
    ['several at once', '[{{i}}, "{{uuid}}", {{i}}]', 2, [2, 'u-1', 2]],
    ['a bare value', '{{i}}', 9, 9],
  ];
  for (const [name, template, i, want] of cases) {
    it(name, () => assert.deepEqual(compileTemplate(template, fixed)(i), want));
  }

  it('{{rand}} stays within MIN..MAX at both ends of random()', () => {
    for (const r of [0, 0.999999]) {
      const t = compileTemplate('{{rand:1:3}}', { ...fixed, random: () => r });
      assert.equal(t(0), r === 0 ? 1 : 3);
    }
  });

  const bad: [name: string, template: string, message: RegExp][] = [
    ['unknown placeholder', '{"a": {{row}}}', /unknown placeholder \{\{row\}\}/],
    ['MIN above MAX', '{"a": {{rand:5:1}}}', /MIN must be/],
    ['rand without bounds', '{"a": {{rand}}}', /unknown placeholder/],
    ['not JSON once expanded', '{"a": {{i}}', /not JSON/],
    ['{{uuid}} unquoted', '{"a": {{uuid}}}', /not JSON/],
  ];
  for (const [name, template, message] of bad) {
    it(`refuses: ${name}`, () => {
      assert.throws(
        () => compileTemplate(template, fixed),
        (err: unknown) => {
          assert.ok(err instanceof TemplateError);
          assert.match(err.message, message);
          return true;
        },
      );
    });
  }
});
