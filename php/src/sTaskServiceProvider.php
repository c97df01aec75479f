<?php

declare(strict_types=1);

namespace Seiger\sTask;

use Seiger\sTask\Console\CancelCommand;
use Seiger\sTask\Console\DiscoverCommand;
use Seiger\sTask\Console\DoctorCommand;
use Seiger\sTask\Console\PruneCommand;
use Seiger\sTask\Console\PublishCommand;
use Seiger\sTask\Console\RetryCommand;
use Seiger\sTask\Console\TasksCommand;
use Seiger\sTask\Console\WorkCommand;
use Seiger\sTask\Console\WorkerCommand;
use Seiger\sTask\Exceptions\sTaskException;
use Seiger\sTask\Facades\sTask;
use Seiger\sTask\Queue\StaskConnector;
use Seiger\sTask\Support\BaseProvider;
use Seiger\sTask\Support\ExtensionVersion;
use Seiger\sTask\Support\HostExceptionHandler;
use Seiger\sTask\Support\HostLog;
use Seiger\sTask\Support\sTaskAlias;

/**
 * Hosts sTask in Evolution CMS 3.x (or any Laravel 8+ application).
 *
 * The engine is the stask extension; this provider only tells it where the
 * host's database and storage are, and wires commands, schedule, migrations,
 * translations, views, the manager menu and the `stask` queue connector.
 */
class sTaskServiceProvider extends BaseProvider
{
    /** Root of the Composer package (the folder holding src/). */
    public const PACKAGE_PATH = __DIR__ . '/..';

    /** Connection keys handed to sTask::configure() when the host sets them. */
    private const CONNECTION_KEYS = [
        'driver', 'url', 'host', 'port', 'database', 'username', 'password', 'prefix',
        'unix_socket', 'charset', 'collation', 'schema', 'search_path', 'sslmode',
    ];

    /** The path the routes are mounted under (config('stask.routes.prefix')), below the host's base URL. */
    public static string $routePrefix = 'stask';

    /** Where vendor:publish --tag=stask copies the module's assets, under the public folder. */
    public const PUBLISHED_ASSETS = 'assets/site';

    /** Container key holding why configure() failed during a web request (Http\HttpAdapter answers 503). */
    public const CONFIGURATION_ERROR = 'stask.configuration_error';

    public const COMMANDS = [
        WorkerCommand::class,
        WorkCommand::class,
        TasksCommand::class,
        RetryCommand::class,
        CancelCommand::class,
        PruneCommand::class,
        DiscoverCommand::class,
        PublishCommand::class,
        DoctorCommand::class,
    ];

    public function register()
    {
        if (!self::extensionLoaded()) {
            // The host keeps working without the extension (a web server
            // whose PHP lacks it, a CLI run with -n): the commands and the
            // module tab say how to load it; nothing that needs it is wired.
            self::warnMissingExtension();
            if ($this->app->runningInConsole()) {
                // schedule:run still starts stask:worker, which then says
                // how to load the extension (and the log has it too), instead
                // of a cron line that silently does nothing.
                $this->commands(self::COMMANDS);
                $this->registerScheduleCommandsWhereMissing();
            }

            return;
        }

        if ($this->app->runningInConsole()) {
            $this->commands(self::COMMANDS);
            $this->registerScheduleCommandsWhereMissing();
        }

        // The queue manager is created lazily; hook it whenever it is.
        $this->callAfterResolving('queue', static function ($manager): void {
            $manager->addConnector('stask', static fn () => new StaskConnector());
        });
    }

    public function boot()
    {
        $this->mergeConfigFrom(self::PACKAGE_PATH . '/config/stask.php', 'stask');
        $this->loadTranslationsFrom(self::PACKAGE_PATH . '/lang', 'sTask');
        // Evolution's role editor names the permission from the manager's own lexicon.
        \Seiger\sTask\Support\ManagerLexicon::register($this->app);
        $this->loadViewsFrom(self::PACKAGE_PATH . '/views', 'sTask');
        if (!self::extensionLoaded()) {
            $this->registerRoutes(self::PACKAGE_PATH . '/src/Http/routes-without-extension.php');
            $this->registerMenu();
            $this->registerSchedule();

            return;
        }

        $this->configureEngine();
        self::ensureStorageDirectory($this->storagePath());

        $this->mergeConfigFrom(self::PACKAGE_PATH . '/config/sTaskCheck.php', 'cms.settings');
        $this->registerAlias();
        $this->loadMigrationsFrom(self::PACKAGE_PATH . '/database/migrations');

        $this->publishes([
            self::PACKAGE_PATH . '/config/sTaskAlias.php' => self::aliasFilePath(),
            self::PACKAGE_PATH . '/assets' => public_path(self::PUBLISHED_ASSETS),
        ], 'stask');

        $this->registerSchedule();
        $this->registerRoutes(self::PACKAGE_PATH . '/src/Http/routes.php');
        $this->registerMenu();
    }

    /**
     * The extension is loaded in this PHP (CLI and web server PHPs are
     * configured apart) and is a version this package works with; one
     * outside ExtensionVersion::SUPPORTED counts as missing.
     */
    public static function extensionLoaded(): bool
    {
        return extension_loaded('stask') && class_exists('Seiger\sTask\Facades\sTask', false)
            && ExtensionVersion::compatible();
    }

    /**
     * One warning in the host's log, at most once an hour per application
     * (a stamp file in the temp folder): a web server without the extension
     * would otherwise write it for every page view.
     */
    private static function warnMissingExtension(): void
    {
        try {
            $base = function_exists('base_path') ? (string) base_path() : __DIR__;
        } catch (\Throwable) {
            $base = __DIR__;
        }
        $stamp = sys_get_temp_dir() . '/stask-missing-extension-' . md5($base . '|' . PHP_SAPI) . '.stamp';
        // is_file() first: a host's error handler sees even @-silenced warnings.
        $last = is_file($stamp) ? filemtime($stamp) : false;
        if ($last !== false && $last > time() - 3600) {
            return;
        }
        if (is_writable(dirname($stamp))) {
            touch($stamp);
        }
        HostLog::warning(self::missingExtensionMessage() . ' (logged at most once an hour)');
    }

    /** What to do when the extension is missing, for the log, the commands and the module tab. */
    public static function missingExtensionMessage(): string
    {
        if (ExtensionVersion::mismatched()) {
            return ExtensionVersion::mismatchMessage();
        }

        return 'sTask needs the stask PHP extension, which this PHP (' . PHP_SAPI . ' ' . PHP_VERSION
            . ') has not loaded: add "extension=stask" (or the full path to stask.so) to the php.ini of '
            . (PHP_SAPI === 'cli' ? 'the command line (php --ini shows which)' : 'the web server (PHP-FPM or Apache; phpinfo() shows which), then restart it')
            . '. The CLI and the web server each need it; `php -m | grep stask` checks the CLI.';
    }

    /**
     * Points the engine at the host's default connection. configure() only
     * validates; the first query opens the connection.
     */
    protected function configureEngine(): void
    {
        $config = $this->app->make('config');
        $name = (string) $config->get('database.default', '');
        $connection = $name === '' ? null : $config->get('database.connections.' . $name);
        if (!is_array($connection)) {
            $message = "sTask: the default database connection '{$name}' is not defined in config('database.connections').";
            if (self::runningDoctor()) {
                // stask:doctor reports it instead of failing to start.
                $this->app->instance(self::CONFIGURATION_ERROR, $message);

                return;
            }
            throw new \RuntimeException($message);
        }

        $options = [];
        foreach (self::CONNECTION_KEYS as $key) {
            if (array_key_exists($key, $connection) && $connection[$key] !== null && $connection[$key] !== '') {
                $options[$key] = $connection[$key];
            }
        }
        $options['driver'] = (string) ($options['driver'] ?? '');
        if ($options['driver'] === 'mariadb') {
            $options['driver'] = 'mysql';
        }
        // An in-memory SQLite host (a test suite) cannot be shared with the
        // engine's own connection: the engine then keeps its tables in its
        // default file, <storage>/stask/stask.sqlite.
        if ($options['driver'] === 'sqlite' && in_array($options['database'] ?? ':memory:', [':memory:', ''], true)) {
            unset($options['database'], $options['url']);
        }
        if (isset($options['port']) && is_string($options['port']) && ctype_digit($options['port'])) {
            $options['port'] = (int) $options['port'];
        }
        $options['storage_path'] = $this->storagePath();
        $options['base_path'] = base_path();

        try {
            sTask::configure($options);
            $this->configureLogging();
        } catch (sTaskException $e) {
            $message = "sTask is not configured (database connection '{$name}', storage, stask.* / STASK_* settings): "
                . $e->getMessage();
            if ($this->app->runningInConsole() && !self::runningDoctor()) {
                throw new \RuntimeException($message, 0, $e);
            }
            // A web request: the host keeps working; the /stask routes answer
            // 503 JSON with the reason (Http\HttpAdapter), the log has the rest.
            $this->app->instance(self::CONFIGURATION_ERROR, $message);
            try {
                $this->app->make('log')->error($message, ['exception' => $e]);
            } catch (\Throwable) {
                // No logger: the 503 still says why.
            }
        }
    }

    /**
     * The engine's log records go to the host's logger, on the channel of
     * config('stask.log_channel'), from config('stask.log_level') up
     * (STASK_LOG overrides it).
     */
    protected function configureLogging(): void
    {
        if (!method_exists(sTask::class, 'setLogger')) {
            return; // an extension older than the package: error_log only
        }
        $config = $this->app->make('config');
        $channel = $config->get('stask.log_channel');
        $channel = is_string($channel) && $channel !== '' ? $channel : null;
        $level = $config->get('stask.log_level');
        $level = is_string($level) && $level !== '' ? $level : null;
        try {
            sTask::setLogger(static function (string $level, string $message, array $context) use ($channel): void {
                HostLog::record($level, $message, $context, $channel);
            }, $level);
        } catch (sTaskException $e) {
            HostLog::warning('sTask: config(\'stask.log_level\'): ' . $e->getMessage());
            sTask::setLogger(static function (string $level, string $message, array $context) use ($channel): void {
                HostLog::record($level, $message, $context, $channel);
            });
        }
    }

    /** This process is `artisan stask:doctor`, which must start to report what is wrong. */
    private static function runningDoctor(): bool
    {
        return PHP_SAPI === 'cli' && in_array('stask:doctor', (array) ($_SERVER['argv'] ?? []), true);
    }

    protected function storagePath(): string
    {
        return storage_path('stask');
    }

    /** Evolution's config_path() takes a second "custom" flag; Laravel's ignores it. */
    public static function aliasFilePath(): string
    {
        return config_path('app/aliases/sTask.php', true);
    }

    /** mkdir that tolerates another process creating the folder at the same time. */
    public static function ensureStorageDirectory(string $dir): void
    {
        if (is_dir($dir)) {
            return;
        }
        if (!@mkdir($dir, 0755, true) && !is_dir($dir)) {
            throw new \RuntimeException("sTask cannot create its storage folder {$dir}: check permissions.");
        }
    }

    protected function registerAlias(): void
    {
        foreach (['Illuminate\Foundation\AliasLoader', 'EvolutionCMS\AliasLoader'] as $loader) {
            if (class_exists($loader)) {
                $loader::getInstance()->alias('sTask', sTaskAlias::class);

                return;
            }
        }
        spl_autoload_register(static function (string $class): void {
            if ($class === 'sTask') {
                class_alias(sTaskAlias::class, 'sTask');
            }
        });
    }

    /**
     * Adds `stask:worker` to the host's schedule, every minute and in the
     * background (it runs most of the minute). Overlap is handled by the
     * command's slot locks, not by withoutOverlapping(); the host's
     * Schedule singleton is left as it is.
     */
    protected function registerSchedule(): void
    {
        $this->callAfterResolving('Illuminate\Console\Scheduling\Schedule', static function ($schedule): void {
            $schedule->command('stask:worker')->everyMinute()->runInBackground();
        });
    }

    /**
     * Evolution CMS 3.1 has no schedule:run (no Console Kernel): there the
     * package brings Laravel's schedule:run, schedule:finish (which
     * runInBackground() calls) and schedule:list, so the seed's cron entry
     * works. Where the host has them (Laravel, later Evolution cores), its
     * own registration stands: this only fills in names nobody registered
     * before it, and a host registering them later replaces them.
     *
     * What the package brings must run there: schedule:run asks the
     * container for Laravel's ExceptionHandler contract, which a 3.1 core
     * does not bind (its handler is the service `ExceptionHandler`, not that
     * contract); schedule:list needs a timezone the core may not configure
     * (Console\Scheduling\ScheduleListCommand).
     */
    protected function registerScheduleCommandsWhereMissing(): void
    {
        $commands = [
            'schedule:run' => 'Illuminate\Console\Scheduling\ScheduleRunCommand',
            'schedule:finish' => 'Illuminate\Console\Scheduling\ScheduleFinishCommand',
            'schedule:list' => Console\Scheduling\ScheduleListCommand::class,
        ];
        if (!class_exists('Illuminate\Console\Application') || !class_exists($commands['schedule:run'])) {
            return;
        }
        $app = $this->app;
        \Illuminate\Console\Application::starting(static function ($artisan) use ($commands, $app): void {
            $brought = false;
            foreach ($commands as $name => $class) {
                if (!$artisan->has($name) && class_exists($class)) {
                    $artisan->resolve($class);
                    $brought = true;
                }
            }
            if ($brought) {
                self::bindExceptionHandlerContract($app);
            }
        });
    }

    /**
     * Binds Laravel's ExceptionHandler contract where nothing does: to the
     * host's handler when it keeps one under another name that honours the
     * contract, else to a handler that reports through the host's log.
     */
    public static function bindExceptionHandlerContract($app): void
    {
        $contract = 'Illuminate\Contracts\Debug\ExceptionHandler';
        if ($app->bound($contract)) {
            return;
        }
        try {
            $host = $app->bound('ExceptionHandler') ? $app->make('ExceptionHandler') : null;
        } catch (\Throwable) {
            $host = null;
        }
        if ($host instanceof \Illuminate\Contracts\Debug\ExceptionHandler) {
            $app->instance($contract, $host);

            return;
        }
        $app->singleton($contract, static fn () => new HostExceptionHandler());
    }

    /**
     * The admin module (GET /stask, named sTask.index) and the REST API under
     * /stask/* (src/Http/routes.php); not when the host already has a route
     * of that name. In Evolution CMS they belong to the manager
     * (/manager/stask, the mgr group) and are not added to the site's pages,
     * where they would answer anonymous visitors and shadow a page with that
     * alias. Elsewhere config('stask.routes.prefix') and
     * config('stask.routes.middleware') place them (default: /stask in the
     * `mgr` group, which is the host's `web` group unless it defines one).
     */
    protected function registerRoutes(string $file): void
    {
        if (!$this->app->bound('router') || self::onEvolutionSite()) {
            return;
        }
        $router = $this->app->make('router');
        if ($router->has('sTask.index')) {
            return;
        }
        $config = $this->app->make('config');
        $middleware = $config->get('stask.routes.middleware');
        if ($middleware === null || $middleware === '' || $middleware === []) {
            if (!array_key_exists('mgr', $router->getMiddlewareGroups())) {
                $router->middlewareGroup('mgr', (array) $config->get('app.middleware.mgr', ['web']));
            }
            $middleware = ['mgr'];
        }
        $prefix = trim((string) $config->get('stask.routes.prefix', 'stask'), '/');
        self::$routePrefix = $prefix === '' ? 'stask' : $prefix;
        // One group with both prefix and middleware: a prefix nested in a
        // group without one makes Laravel 8.46 call trim(null).
        $router->group(['prefix' => self::$routePrefix, 'middleware' => (array) $middleware], $file);
    }

    /** A request of an Evolution CMS site's front end (index.php defines IN_MANAGER_MODE false). */
    private static function onEvolutionSite(): bool
    {
        return function_exists('evo') && defined('IN_MANAGER_MODE') && IN_MANAGER_MODE !== true;
    }

    protected function registerMenu(): void
    {
        if (!$this->app->bound('events')) {
            return;
        }
        $this->app->make('events')->listen('evolution.OnManagerMenuPrerender', static function ($params) {
            if (!function_exists('evo') || !evo()->hasPermission('stask')) {
                return null;
            }
            $menu = is_array($params['menu'] ?? null) ? $params['menu'] : [];
            $title = self::translate('sTask::global.title', 'Task Manager');

            return serialize(array_merge($menu, [
                'stask' => [
                    'stask',
                    'tools',
                    '<i class="fa fa-tasks"></i> ' . $title,
                    self::moduleUrl(),
                    $title,
                    '',
                    '',
                    'main',
                    0,
                    10,
                    '',
                ],
            ]));
        });
    }

    public static function moduleUrl(): string
    {
        try {
            if (function_exists('route') && app()->bound('router')) {
                $routes = app('router')->getRoutes();
                if (method_exists($routes, 'refreshNameLookups')) {
                    $routes->refreshNameLookups();
                }
            }
            if (function_exists('route') && app()->bound('router') && app('router')->has('sTask.index')) {
                return route('sTask.index');
            }
        } catch (\Throwable) {
            // No URL generator in this context: fall through.
        }

        return (defined('MODX_MANAGER_URL') ? rtrim((string) MODX_MANAGER_URL, '/') : '') . '/stask';
    }

    private static function translate(string $key, string $fallback): string
    {
        if (function_exists('__')) {
            try {
                $text = __($key);
                if (is_string($text) && $text !== $key) {
                    return $text;
                }
            } catch (\Throwable) {
                // No translator bound.
            }
        }

        return $fallback;
    }
}
