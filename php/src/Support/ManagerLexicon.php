<?php

declare(strict_types=1);

namespace Seiger\sTask\Support;

use Seiger\sTask\Http\ModulePage;

/**
 * Gives Evolution's manager lexicon the package's names of its permission.
 *
 * Evolution CMS 3.x shows a permission (and its group) in the role editor as
 * `ManagerTheme::getLexicon($lang_key, $name)`: the lexicon is the manager's
 * own `$_lang` array, not Laravel's translator, so the migration's lang keys
 * `sTask::global.permission_access` and `sTask::global.permissions_group`
 * are not found there and the English `name` column is shown in every
 * language. This adds the package's lang/<manager language>/global.php
 * strings to that array under the same keys, once ManagerTheme exists; on
 * a host without ManagerTheme (plain Laravel) it does nothing.
 */
final class ManagerLexicon
{
    public const SERVICE = 'ManagerTheme';
    public const PREFIX = 'sTask::global.';

    private const PACKAGE_PATH = __DIR__ . '/../..';

    /** Hooks the manager's ManagerTheme, now if it was already made, else when it is. */
    public static function register(object $app): void
    {
        if (!method_exists($app, 'bound') || !method_exists($app, 'afterResolving')) {
            return;
        }
        try {
            if (method_exists($app, 'resolved') && $app->resolved(self::SERVICE)) {
                self::extend($app->make(self::SERVICE));

                return;
            }
            $app->afterResolving(self::SERVICE, static function ($theme): void {
                if (is_object($theme)) {
                    self::extend($theme);
                }
            });
        } catch (\Throwable $e) {
            // The manager must keep working: an untranslated name is the worst case.
        }
    }

    /** The package's global strings, keyed as the migration's lang_key values, in the manager's language. */
    public static function entries(?string $language): array
    {
        $locale = ModulePage::locale(self::languageCode($language));
        $strings = require self::PACKAGE_PATH . '/lang/en/global.php';
        if ($locale !== 'en') {
            $strings = array_merge($strings, require self::PACKAGE_PATH . '/lang/' . $locale . '/global.php');
        }
        $out = [];
        foreach ($strings as $key => $text) {
            if (is_string($text)) {
                $out[self::PREFIX . $key] = $text;
            }
        }

        return $out;
    }

    /**
     * Adds entries() to the theme's lexicon (a protected array of
     * EvolutionCMS\ManagerTheme without a setter), keeping what is there.
     */
    public static function extend(object $theme): void
    {
        if (!property_exists($theme, 'lexicon')) {
            return;
        }
        $language = method_exists($theme, 'getLangName') ? (string) $theme->getLangName() : '';
        $entries = self::entries($language);
        $add = function (array $entries): void {
            if (is_array($this->lexicon)) {
                $this->lexicon += $entries;
            }
        };
        \Closure::bind($add, $theme, get_class($theme))($entries);
    }

    /** Evolution names its languages by code (uk) in 3.x and by name (ukrainian, russian-UTF8) before. */
    private static function languageCode(?string $language): string
    {
        $language = strtolower(trim((string) $language));
        $names = ['english' => 'en', 'ukrainian' => 'uk', 'russian' => 'ru'];
        foreach ($names as $name => $code) {
            if (str_starts_with($language, $name)) {
                return $code;
            }
        }

        return $language;
    }
}
