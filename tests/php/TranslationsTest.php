<?php

declare(strict_types=1);

namespace Stask\Tests;

use PHPUnit\Framework\TestCase as PHPUnitTestCase;

/**
 * The admin module speaks en, uk and ru: every language has every string
 * (with the same :placeholders), and every string the script asks for by
 * name exists. Plain PHPUnit: no database involved.
 */
final class TranslationsTest extends PHPUnitTestCase
{
    private const LANGS = ['en', 'uk', 'ru'];

    /** @return array<string, array<string, mixed>> */
    private static function strings(string $file): array
    {
        $out = [];
        foreach (self::LANGS as $lang) {
            $out[$lang] = require dirname(__DIR__, 2) . "/php/lang/{$lang}/{$file}.php";
        }

        return $out;
    }

    /** @return list<string> */
    private static function placeholders(string $s): array
    {
        preg_match_all('/:[a-z_]+/', $s, $m);
        $found = array_unique($m[0]);
        sort($found);

        return $found;
    }

    /** @return array<string, array{string}> */
    public static function files(): array
    {
        return ['admin' => ['admin'], 'global' => ['global']];
    }

    /** @dataProvider files */
    public function testEveryLanguageHasEveryStringWithTheSamePlaceholders(string $file): void
    {
        $all = self::strings($file);
        $keys = array_keys($all['en']);
        $this->assertNotEmpty($keys);
        foreach (self::LANGS as $lang) {
            $this->assertSame([], array_values(array_diff($keys, array_keys($all[$lang]))), "{$lang}/{$file}.php lacks these");
            $this->assertSame([], array_values(array_diff(array_keys($all[$lang]), $keys)), "{$lang}/{$file}.php has extra strings");
            foreach ($all[$lang] as $key => $text) {
                if (!is_string($text)) {
                    continue;
                }
                $this->assertNotSame('', trim($text), "{$lang}/{$file}.php: {$key} is empty");
                $this->assertSame(self::placeholders($all['en'][$key]), self::placeholders($text), "{$lang}/{$file}.php: {$key}");
            }
        }
        $this->assertNotSame($all['en'], $all['uk'], 'uk is translated, not a copy of en');
        $this->assertNotSame($all['en'], $all['ru'], 'ru is translated, not a copy of en');
    }

    /**
     * Every text the engine writes under a code (src/engine/messages.rs) and
     * every alert type (src/engine/metrics.rs) has its string, with the
     * template's values as :placeholders, so the module never falls back to
     * English for a text it could translate.
     */
    public function testEveryEngineTextHasItsString(): void
    {
        $root = dirname(__DIR__, 2);
        $source = (string) file_get_contents($root . '/src/engine/messages.rs');
        $table = substr($source, (int) strpos($source, 'pub const TEMPLATES'));
        $table = substr($table, 0, (int) strpos($table, '];'));
        preg_match_all('/\(\s*"([a-z_]+)",\s*((?:"(?:[^"\\\\]|\\\\.)*"\s*)+)\)/s', $table, $m, PREG_SET_ORDER);
        $this->assertGreaterThan(10, count($m), 'messages.rs parsed');
        $en = self::strings('admin')['en'];
        foreach ($m as [, $code, $template]) {
            $this->assertArrayHasKey("msg_{$code}", $en, "the module has no string for the engine's {$code}");
            preg_match_all('/\{([a-z_]+)\}/', $template, $values);
            $want = array_map(static fn (string $v): string => ":{$v}", array_values(array_unique($values[1])));
            $have = array_values(array_filter(self::placeholders($en["msg_{$code}"]), static fn (string $p): bool => in_array($p, $want, true)));
            sort($want);
            $this->assertSame($want, $have, "msg_{$code} fills in every value of the template");
        }
        preg_match_all('/"type": "([a-z_]+)"/', (string) file_get_contents($root . '/src/engine/metrics.rs'), $types);
        $this->assertNotEmpty($types[1]);
        foreach (array_unique($types[1]) as $type) {
            $this->assertArrayHasKey("alert_{$type}", $en, "the module has no string for the alert {$type}");
        }
    }

    public function testEveryStringTheScriptNamesExists(): void
    {
        $js = (string) file_get_contents(dirname(__DIR__, 2) . '/php/assets/stask-admin.js');
        preg_match_all("/\\bt\\('([a-z0-9_]+)'\\)/", $js, $m);
        $named = array_unique($m[1]);
        $this->assertGreaterThan(50, count($named), 'the script asks for its strings with t(\'key\')');
        $en = self::strings('admin')['en'];
        $this->assertSame([], array_values(array_diff($named, array_keys($en))), 'strings the script uses but en/admin.php lacks');
    }
}
