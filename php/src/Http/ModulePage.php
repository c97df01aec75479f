<?php

declare(strict_types=1);

namespace Seiger\sTask\Http;

/**
 * Builds and renders the admin module page (views/module.php) for any host:
 * the Laravel/Evolution adapter (csrf mode) and the standalone front
 * controller (bearer mode) both come through here.
 */
final class ModulePage
{
    public const LOCALES = ['en', 'uk', 'ru'];

    private const PACKAGE_PATH = __DIR__ . '/../..';

    /** The translated strings of the page; unknown locales fall back to English, missing keys too. */
    public static function strings(string $locale): array
    {
        $strings = require self::PACKAGE_PATH . '/lang/en/admin.php';
        $locale = self::locale($locale);
        if ($locale !== 'en') {
            $strings = array_merge($strings, require self::PACKAGE_PATH . '/lang/' . $locale . '/admin.php');
        }

        return $strings;
    }

    /** en, uk or ru from a locale such as "uk_UA", "ru-RU" or "english"; en otherwise. */
    public static function locale(?string $locale): string
    {
        $locale = strtolower(substr(trim((string) $locale), 0, 2));
        $aliases = ['ua' => 'uk'];
        $locale = $aliases[$locale] ?? $locale;

        return in_array($locale, self::LOCALES, true) ? $locale : 'en';
    }

    /**
     * @param array{api: string, auth: 'csrf'|'bearer', csrf?: string, locale?: string, assets: string, version?: string, theme?: string, icon_css?: string} $options
     */
    public static function data(array $options): array
    {
        $locale = self::locale($options['locale'] ?? 'en');
        $theme = self::normalizeTheme($options['theme'] ?? null) ?? self::hostTheme();

        return [
            'api' => rtrim($options['api'], '/'),
            'auth' => ($options['auth'] ?? 'csrf') === 'bearer' ? 'bearer' : 'csrf',
            'csrf' => (string) ($options['csrf'] ?? ''),
            'locale' => $locale,
            'assets' => rtrim($options['assets'], '/'),
            'version' => (string) ($options['version'] ?? self::assetVersion()),
            'strings' => self::strings($locale),
            // light or dark when the host says so; auto follows the browser (prefers-color-scheme).
            'theme' => $theme,
            'icon_css' => (string) ($options['icon_css'] ?? self::hostIconStylesheet()),
            'doctor' => (string) ($options['doctor'] ?? ''),
        ];
    }

    /** Evolution's colour modes by the number its cookie and setting store (1 to 4). */
    private const EVO_MODES = [1 => 'lightness', 2 => 'light', 3 => 'dark', 4 => 'darkness'];

    /**
     * light, dark or auto from what the host offers. In Evolution CMS 3.x the
     * manager's colour mode is one of lightness (all light), light (dark
     * header), dark (dark header and tree) and darkness (everything dark):
     * the content area, where the module is shown, is dark only in the last.
     * The user's choice is the MODX_themeMode cookie (1-4), the default the
     * setting manager_theme_mode; ManagerTheme::getThemeStyle() reads both.
     */
    public static function hostTheme(): string
    {
        $style = null;
        try {
            if (function_exists('app') && app()->bound('ManagerTheme')) {
                $manager = app('ManagerTheme');
                if (is_object($manager) && method_exists($manager, 'getThemeStyle')) {
                    $style = (string) $manager->getThemeStyle();
                }
            }
        } catch (\Throwable $e) {
            $style = null;
        }
        if ($style === null) {
            $mode = self::modeNumber($_COOKIE['MODX_themeMode'] ?? null);
            if ($mode === null && function_exists('evo')) {
                try {
                    $mode = self::modeNumber(evo()->getConfig('manager_theme_mode'));
                } catch (\Throwable $e) {
                    $mode = null;
                }
            }
            $style = $mode === null ? null : self::EVO_MODES[$mode];
        }
        if ($style === null || $style === '') {
            return 'auto';
        }

        return $style === 'darkness' ? 'dark' : 'light';
    }

    private static function modeNumber($value): ?int
    {
        if (!is_scalar($value) || !preg_match('/^\s*[1-4]\s*$/', (string) $value)) {
            return null;
        }

        return (int) $value;
    }

    private static function normalizeTheme($theme): ?string
    {
        $theme = is_string($theme) ? strtolower(trim($theme)) : '';

        return in_array($theme, ['light', 'dark', 'auto'], true) ? $theme : null;
    }

    /**
     * URL of the host manager's icon font stylesheet (Font Awesome in
     * Evolution CMS), so the workers' icon() classes draw; '' elsewhere.
     */
    public static function hostIconStylesheet(): string
    {
        if (!defined('MODX_MANAGER_URL') || !defined('MODX_MANAGER_PATH')) {
            return '';
        }
        $file = 'media/style/common/font-awesome/css/font-awesome.min.css';

        if (!is_file(constant('MODX_MANAGER_PATH') . $file)) {
            return '';
        }
        // MODX_MANAGER_URL is absolute (site URL); a path keeps it same-origin for the page's CSP.
        $path = (string) (parse_url((string) constant('MODX_MANAGER_URL'), PHP_URL_PATH) ?: '/manager/');

        return rtrim($path, '/') . '/' . $file;
    }

    public static function render(array $options): string
    {
        $page = self::data($options);
        ob_start();
        try {
            (static function (array $page): void {
                require self::PACKAGE_PATH . '/views/module.php';
            })($page);
        } catch (\Throwable $e) {
            ob_end_clean();
            throw $e;
        }

        return (string) ob_get_clean();
    }

    /** Folder of the page's script and stylesheet. */
    public static function assetsPath(): string
    {
        return realpath(self::PACKAGE_PATH . '/assets') ?: self::PACKAGE_PATH . '/assets';
    }

    /** Changes whenever one of the two assets changes, so browsers do not keep an old script. */
    public static function assetVersion(): string
    {
        $dir = self::assetsPath();
        $stamp = 0;
        foreach (['stask-admin.js', 'stask-admin.css'] as $file) {
            $stamp = max($stamp, (int) @filemtime($dir . '/' . $file));
        }

        return base_convert((string) $stamp, 10, 36);
    }
}
