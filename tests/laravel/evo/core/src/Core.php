<?php

namespace EvolutionCMS;

use Illuminate\Config\Repository;
use Illuminate\Container\Container;
use Illuminate\Contracts\Foundation\Application as ApplicationContract;
use Illuminate\Events\EventServiceProvider;
use Illuminate\Http\Request;
use Illuminate\Log\LogServiceProvider;
use Illuminate\Support\Facades\DB;
use Illuminate\Support\Facades\Facade;
use Illuminate\Support\ServiceProvider as IlluminateServiceProvider;
use Symfony\Component\HttpKernel\Exception\MethodNotAllowedHttpException;
use Symfony\Component\HttpKernel\Exception\NotFoundHttpException;

/**
 * The harness's stand-in for EvolutionCMS\Core (evo()): a plain Illuminate
 * container that implements the Application contract itself, as the 3.1
 * core's AbstractLaravel does. It loads core/config then core/custom/config
 * (a file's path is its key: custom/config/app/providers/sTask.php is
 * app.providers.sTask), registers the configured providers (deferred ones
 * when first needed), boots them, and answers the calls packages make on
 * evo(): getConfig() over cms.settings, hasPermission() from the session,
 * getLoginUserID(), invokeEvent().
 */
class Core extends Container implements ApplicationContract
{
    private bool $booted = false;

    /** @var IlluminateServiceProvider[] */
    private array $providers = [];

    /** service => provider class, for deferred providers not loaded yet. */
    private array $deferred = [];

    private array $bootingCallbacks = [];

    private array $bootedCallbacks = [];

    private const ALIASES = [
        'app' => [self::class, \Illuminate\Contracts\Container\Container::class, ApplicationContract::class, \Psr\Container\ContainerInterface::class],
        'blade.compiler' => [\Illuminate\View\Compilers\BladeCompiler::class],
        'cache' => [\Illuminate\Cache\CacheManager::class, \Illuminate\Contracts\Cache\Factory::class],
        'cache.store' => [\Illuminate\Cache\Repository::class, \Illuminate\Contracts\Cache\Repository::class],
        'config' => [Repository::class, \Illuminate\Contracts\Config\Repository::class],
        'db' => [\Illuminate\Database\DatabaseManager::class, \Illuminate\Database\ConnectionResolverInterface::class],
        'db.connection' => [\Illuminate\Database\Connection::class, \Illuminate\Database\ConnectionInterface::class],
        'events' => [\Illuminate\Events\Dispatcher::class, \Illuminate\Contracts\Events\Dispatcher::class],
        'files' => [\Illuminate\Filesystem\Filesystem::class],
        'translator' => [\Illuminate\Translation\Translator::class, \Illuminate\Contracts\Translation\Translator::class],
        'log' => [\Illuminate\Log\LogManager::class, \Psr\Log\LoggerInterface::class],
        'router' => [\Illuminate\Routing\Router::class, \Illuminate\Contracts\Routing\Registrar::class, \Illuminate\Contracts\Routing\BindingRegistrar::class],
        'session' => [\Illuminate\Session\SessionManager::class],
        'session.store' => [\Illuminate\Session\Store::class, \Illuminate\Contracts\Session\Session::class],
        'url' => [\Illuminate\Routing\UrlGenerator::class, \Illuminate\Contracts\Routing\UrlGenerator::class],
        'view' => [\Illuminate\View\Factory::class, \Illuminate\Contracts\View\Factory::class],
        'redirect' => [\Illuminate\Routing\Redirector::class],
        'request' => [Request::class, \Symfony\Component\HttpFoundation\Request::class],
    ];

    public function __construct()
    {
        static::setInstance($this);
        $this->instance('app', $this);
        $this->instance(Container::class, $this);
        foreach (self::ALIASES as $key => $aliases) {
            foreach ($aliases as $alias) {
                $this->alias($key, $alias);
            }
        }
        $this->instance('path.lang', EVO_CORE_PATH . 'lang');
        $this->instance('path.storage', EVO_CORE_PATH . 'storage');
        $this->instance('path.config', EVO_CORE_PATH . 'config');

        $this->register(new EventServiceProvider($this));
        $this->register(new LogServiceProvider($this));

        $this->instance('config', $config = new Repository([]));
        $this->loadConfiguration($config, EVO_CORE_PATH . 'config');
        $this->loadConfiguration($config, EVO_CORE_PATH . 'custom/config');
        $this['env'] = $config->get('app.env', 'production');
        date_default_timezone_set($config->get('app.timezone', 'UTC'));

        Facade::clearResolvedInstances();
        Facade::setFacadeApplication($this);

        $this->registerConfiguredProviders();
        $this->boot();
    }

    /** Every *.php under $dir; the file's path below $dir is its key. */
    private function loadConfiguration(Repository $config, string $dir): void
    {
        if (!is_dir($dir)) {
            return;
        }
        $files = [];
        $iterator = new \RecursiveIteratorIterator(new \RecursiveDirectoryIterator($dir, \FilesystemIterator::SKIP_DOTS));
        foreach ($iterator as $file) {
            if ($file->getExtension() === 'php') {
                $relative = substr($file->getPathname(), strlen($dir) + 1, -4);
                $files[str_replace('/', '.', $relative)] = $file->getPathname();
            }
        }
        ksort($files, SORT_NATURAL);
        foreach ($files as $key => $path) {
            $config->set($key, require $path);
        }
    }

    // ---- what packages call on evo() ---------------------------------

    /** config('cms.settings.'.$name) wins over the site's settings, as in the core. */
    public function getConfig($name = '', $default = null)
    {
        return $this['config']->get('cms.settings.' . $name, $default);
    }

    public function setConfig($name, $value)
    {
        $this['config']->set('cms.settings.' . $name, $value);
    }

    /** The permissions cached in the session at login ($_SESSION['mgrPermissions']). */
    public function hasPermission($pm, $context = '')
    {
        $context = $context === '' ? (IN_MANAGER_MODE ? 'mgr' : 'web') : $context;

        return (int) ($_SESSION[$context . 'Permissions'][$pm] ?? 0) === 1;
    }

    public function getLoginUserID($context = '')
    {
        $context = $context === '' ? (IN_MANAGER_MODE ? 'mgr' : 'web') : $context;

        return isset($_SESSION[$context . 'Validated'], $_SESSION[$context . 'InternalKey'])
            ? (int) $_SESSION[$context . 'InternalKey'] : false;
    }

    /** The listeners' non-null results, or false; the event is 'evolution.'.$name. */
    public function invokeEvent($evtName, $extParams = [])
    {
        $results = [];
        foreach ((array) $this['events']->dispatch('evolution.' . $evtName, [$extParams]) as $result) {
            if ($result !== null) {
                $results[] = $result;
            }
        }

        return $results ?: false;
    }

    public function isBackend()
    {
        return defined('IN_MANAGER_MODE') && IN_MANAGER_MODE === true;
    }

    public function isFrontend()
    {
        return !$this->isBackend();
    }

    public function getService($name)
    {
        return $this->make($name);
    }

    public function getVersionData($data = null)
    {
        $version = ['version' => '3.1.6', 'branch' => 'Evolution CMS', 'full_appname' => 'Evolution CMS 3.1.6 (harness)'];

        return $data === null ? $version : ($version[$data] ?? '');
    }

    /**
     * The manager's login (UserLogin): the role's permissions are read once
     * and kept in the session; a permission granted later needs a new login.
     */
    public function loginManager(int $userId, int $roleId): void
    {
        $permissions = ['role' => $roleId];
        foreach (DB::table('role_permissions')->where('role_id', $roleId)->pluck('permission') as $key) {
            $permissions[(string) $key] = 1;
        }
        $_SESSION['mgrValidated'] = 1;
        $_SESSION['mgrInternalKey'] = $userId;
        $_SESSION['mgrRole'] = $roleId;
        $_SESSION['mgrPermissions'] = $permissions;
    }

    // ---- the two front controllers -----------------------------------

    /** index.php: the router first, then the document parser on a 404. */
    public function processRoutes(): void
    {
        $request = $this->captureRequest();
        try {
            $response = $this['router']->dispatch($request);
        } catch (NotFoundHttpException | MethodNotAllowedHttpException) {
            $this->executeParser($request);

            return;
        }
        $response->send();
    }

    /** The site's documents: the home page and a page whose alias is `stask`. */
    private function executeParser(Request $request): void
    {
        $documents = ['/' => 'Home page of the site', '/stask' => 'The site page with the alias stask'];
        $path = '/' . trim($request->getPathInfo(), '/');
        if (!isset($documents[$path])) {
            http_response_code(404);
            echo '<h1>Document not found</h1>';

            return;
        }
        header('Content-Type: text/html; charset=utf-8');
        echo '<!doctype html><title>Site</title><h1>' . $documents[$path] . '</h1>';
    }

    /** manager/index.php: ManagerTheme::handleRoute(). */
    public function handleManagerRoute(): void
    {
        $request = $this->captureRequest();
        $router = $this['router'];
        $router->middlewareGroup('mgr', $this['config']->get('app.middleware.mgr', []));
        foreach ($this['config']->get('app.middleware.aliases', []) as $key => $class) {
            $router->aliasMiddleware($key, $class);
        }
        $router->group(['middleware' => 'mgr'], EVO_CORE_PATH . 'manager-routes.php');
        $routes = $router->getRoutes();
        $routes->refreshNameLookups();
        $routes->refreshActionLookups();
        $router->dispatch($request)->send();
    }

    private function captureRequest(): Request
    {
        $request = Request::createFromGlobals();
        $this->instance(Request::class, $request);
        $this->alias(Request::class, 'request');

        return $request;
    }

    // ---- paths -------------------------------------------------------

    public function basePath($path = '')
    {
        return rtrim(EVO_CORE_PATH, '/') . ($path ? '/' . $path : '');
    }

    public function publicPath()
    {
        return rtrim(MODX_BASE_PATH, '/');
    }

    public function bootstrapPath($path = '')
    {
        return EVO_CORE_PATH . 'storage/bootstrap' . ($path ? '/' . $path : '');
    }

    public function configPath($path = '')
    {
        return EVO_CORE_PATH . 'config' . ($path ? '/' . $path : '');
    }

    /** The harness app's migrations (Evolution's permission tables). */
    public function databasePath($path = '')
    {
        return dirname(EVO_CORE_PATH, 2) . '/database' . ($path ? '/' . $path : '');
    }

    public function resourcePath($path = '')
    {
        return $this->publicPath() . ($path ? '/' . $path : '');
    }

    public function storagePath()
    {
        return EVO_CORE_PATH . 'storage';
    }

    // ---- the Application contract ------------------------------------

    public function version()
    {
        return $this->getVersionData('version');
    }

    public function environment(...$environments)
    {
        if ($environments !== []) {
            $patterns = is_array($environments[0]) ? $environments[0] : $environments;

            return in_array($this['env'], $patterns, true);
        }

        return $this['env'];
    }

    public function runningInConsole()
    {
        return is_cli();
    }

    public function runningUnitTests()
    {
        return $this['env'] === 'testing';
    }

    /** The site is offline when its site_status setting is 0. */
    public function isDownForMaintenance()
    {
        return (int) $this->getConfig('site_status', 0) === 0;
    }

    public function registerConfiguredProviders()
    {
        foreach ((array) $this['config']->get('app.providers', []) as $provider) {
            $provider = $this->resolveProvider($provider);
            if ($provider->isDeferred()) {
                foreach ($provider->provides() as $service) {
                    $this->deferred[$service] = $provider;
                }
                continue;
            }
            $this->register($provider);
        }
    }

    public function register($provider, $force = false)
    {
        if (is_string($provider)) {
            $provider = $this->resolveProvider($provider);
        }
        foreach ($this->providers as $registered) {
            if (!$force && $registered instanceof $provider && get_class($registered) === get_class($provider)) {
                return $registered;
            }
        }
        $provider->register();
        foreach (($provider->bindings ?? []) as $key => $value) {
            $this->bind($key, $value);
        }
        foreach (($provider->singletons ?? []) as $key => $value) {
            $this->singleton($key, $value);
        }
        $this->providers[] = $provider;
        if ($this->booted) {
            $this->bootProvider($provider);
        }

        return $provider;
    }

    public function registerDeferredProvider($provider, $service = null)
    {
        foreach ($this->deferred as $key => $deferred) {
            if (get_class($deferred) === $provider) {
                unset($this->deferred[$key]);
            }
        }
        $this->register($provider);
    }

    public function resolveProvider($provider)
    {
        return new $provider($this);
    }

    public function loadDeferredProviders()
    {
        foreach (array_unique(array_map('get_class', $this->deferred)) as $provider) {
            $this->registerDeferredProvider($provider);
        }
    }

    private function loadDeferred(string $abstract): void
    {
        $abstract = $this->getAlias($abstract);
        if (isset($this->deferred[$abstract]) && !isset($this->instances[$abstract])) {
            $this->registerDeferredProvider(get_class($this->deferred[$abstract]), $abstract);
        }
    }

    public function make($abstract, array $parameters = [])
    {
        $this->loadDeferred($abstract);

        return parent::make($abstract, $parameters);
    }

    public function bound($abstract)
    {
        return isset($this->deferred[$this->getAlias($abstract)]) || parent::bound($abstract);
    }

    public function boot()
    {
        if ($this->booted) {
            return;
        }
        foreach ($this->bootingCallbacks as $callback) {
            $callback($this);
        }
        foreach ($this->providers as $provider) {
            $this->bootProvider($provider);
        }
        $this->booted = true;
        foreach ($this->bootedCallbacks as $callback) {
            $callback($this);
        }
    }

    private function bootProvider(IlluminateServiceProvider $provider): void
    {
        $provider->callBootingCallbacks();
        if (method_exists($provider, 'boot')) {
            $this->call([$provider, 'boot']);
        }
        $provider->callBootedCallbacks();
    }

    public function booting($callback)
    {
        $this->bootingCallbacks[] = $callback;
    }

    public function booted($callback)
    {
        $this->bootedCallbacks[] = $callback;
        if ($this->booted) {
            $callback($this);
        }
    }

    public function bootstrapWith(array $bootstrappers)
    {
    }

    public function getLocale()
    {
        return $this['config']->get('app.locale', 'en');
    }

    public function setLocale($locale)
    {
        $this['config']->set('app.locale', $locale);
    }

    public function getNamespace()
    {
        return 'EvolutionCMS\\';
    }

    public function getProviders($provider)
    {
        $name = is_string($provider) ? $provider : get_class($provider);

        return array_filter($this->providers, static fn ($p) => $p instanceof $name);
    }

    public function hasBeenBootstrapped()
    {
        return $this->booted;
    }

    public function shouldSkipMiddleware()
    {
        return false;
    }

    public function terminate()
    {
    }
}
