<?php

declare(strict_types=1);

namespace Stask\Tests;

use PHPUnit\Framework\TestCase as PHPUnitTestCase;
use Seiger\sTask\Support\ManagerLexicon;

/**
 * Evolution's role editor names a permission with
 * ManagerTheme::getLexicon($lang_key, $name): the lookup below is the same
 * (the manager's $_lang array, the English name when the key is missing).
 * The theme and the container are stand-ins with the same shape as
 * EvolutionCMS\ManagerTheme (a protected $lexicon, getLangName()) and
 * Laravel's container (resolved(), afterResolving()). Plain PHPUnit.
 */
final class ManagerLexiconTest extends PHPUnitTestCase
{
    private const KEY = 'sTask::global.permission_access';
    private const GROUP = 'sTask::global.permissions_group';
    private const NAME = 'Access sTask Interface';

    private static function theme(string $language): object
    {
        return new class ($language) {
            protected $lexicon = ['yes' => 'Так', 'role_management_title' => 'Ролі'];

            public function __construct(private string $language)
            {
            }

            public function getLangName(): string
            {
                return $this->language;
            }

            public function getLexicon($key = null, $default = '')
            {
                return $key === null ? $this->lexicon : ($this->lexicon[$key] ?? $default);
            }
        };
    }

    private static function container(): object
    {
        return new class {
            public array $made = [];
            public array $callbacks = [];

            public function bound(string $name): bool
            {
                return true;
            }

            public function resolved(string $name): bool
            {
                return isset($this->made[$name]);
            }

            public function make(string $name): object
            {
                return $this->made[$name];
            }

            public function afterResolving(string $name, callable $callback): void
            {
                $this->callbacks[$name][] = $callback;
            }

            /** What the container does when the manager first asks for the service. */
            public function resolve(string $name, object $service): object
            {
                $this->made[$name] = $service;
                foreach ($this->callbacks[$name] ?? [] as $callback) {
                    $callback($service);
                }

                return $service;
            }
        };
    }

    public function testWithoutTheHookTheRoleEditorShowsTheEnglishName(): void
    {
        $this->assertSame(self::NAME, self::theme('uk')->getLexicon(self::KEY, self::NAME));
    }

    /** @return array<string, array{string, string, string}> */
    public static function languages(): array
    {
        $text = static fn (string $lang, string $key): string => (require dirname(__DIR__, 2) . "/php/lang/{$lang}/global.php")[$key];

        return [
            'en' => ['en', $text('en', 'permission_access'), $text('en', 'permissions_group')],
            'uk' => ['uk', $text('uk', 'permission_access'), $text('uk', 'permissions_group')],
            'ru' => ['ru', $text('ru', 'permission_access'), $text('ru', 'permissions_group')],
            'ukrainian (1.x name)' => ['ukrainian', $text('uk', 'permission_access'), $text('uk', 'permissions_group')],
            'unknown language' => ['de', $text('en', 'permission_access'), $text('en', 'permissions_group')],
        ];
    }

    /** @dataProvider languages */
    public function testTheThemeMadeAfterTheProviderBootedNamesThePermissionInItsLanguage(string $language, string $access, string $group): void
    {
        $app = self::container();
        ManagerLexicon::register($app);
        $theme = $app->resolve(ManagerLexicon::SERVICE, self::theme($language));
        $this->assertSame($access, $theme->getLexicon(self::KEY, self::NAME));
        $this->assertSame($group, $theme->getLexicon(self::GROUP, 'sTask'));
        $this->assertSame('Так', $theme->getLexicon('yes'), 'the manager\'s own strings stay');
    }

    public function testAThemeMadeBeforeTheProviderBootedIsExtendedAtOnce(): void
    {
        $app = self::container();
        $app->resolve(ManagerLexicon::SERVICE, self::theme('ru'));
        ManagerLexicon::register($app);
        $this->assertSame('Доступ к интерфейсу sTask', $app->make(ManagerLexicon::SERVICE)->getLexicon(self::KEY, self::NAME));
    }

    public function testTheTranslationsAreRealTranslations(): void
    {
        $uk = ManagerLexicon::entries('uk');
        $ru = ManagerLexicon::entries('ru');
        $en = ManagerLexicon::entries('en');
        $this->assertSame(self::NAME, $en[self::KEY]);
        $this->assertNotSame($en[self::KEY], $uk[self::KEY]);
        $this->assertNotSame($en[self::KEY], $ru[self::KEY]);
        $this->assertNotSame($uk[self::KEY], $ru[self::KEY]);
    }
}
